// Starts the real Settle server on a free port with a fresh SQLite file, and a headless
// Debian Chromium driven by playwright-core. Everything stays on loopback.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import assert from 'node:assert/strict';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** Starts `settle serve` (the build named by SETTLE_E2E_PROFILE, default debug), with `extra` settings. */
export async function startServer(extra = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'settle-e2e-'));
  const profile = process.env.SETTLE_E2E_PROFILE ?? 'debug';
  const bin = join(root, 'target', profile, 'settle');
  const db = join(dir, 'settle.db');
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    SETTLE_DATABASE_URL: `sqlite:${db}`,
    SETTLE_DEMO_DATA: 'true',
    SETTLE_LISTEN: `127.0.0.1:${port}`,
    SETTLE_SITE_ROOT: join(root, 'target', 'site'),
    SETTLE_LOG_LEVEL: 'warn',
    SETTLE_PUBLIC_URL: base,
    ...extra,
  };
  const child = spawn(bin, ['serve'], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`settle exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('settle did not become ready in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    /** Runs a `settle` subcommand on the same database; returns its standard output. */
    settle(...args) {
      return execFileSync(bin, args, { cwd: root, env, encoding: 'utf8' });
    },
    /** Runs a `settle` subcommand on the same database with `more` settings on top. */
    settleWith(more, ...args) {
      return execFileSync(bin, args, { cwd: root, env: { ...env, ...more }, encoding: 'utf8' });
    },
    /** A fresh portal link to a demo account. */
    link(reference) {
      return this.settle('link', '--account', reference).split(' ')[1];
    },
    /** One row of a query on the server's SQLite file, through the sqlite3 shell. */
    sql(query) {
      return execFileSync('sqlite3', [db, query], { encoding: 'utf8' }).trim().split('|');
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Launches headless Chromium with the flags this closed network needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Fails when axe-core finds WCAG 2.1 A/AA violations on the page. */
export async function axeCheck(browser, page, where) {
  // axe runs as a script: for a page without JavaScript, it checks the same address in a
  // context that has the session's cookies but refuses the app's own scripts.
  let target = page;
  let extra;
  if (page.__nojs) {
    extra = await browser.newContext({ storageState: await page.context().storageState(), locale: 'en-US' });
    await extra.route(/\/pkg\/.*\.(js|wasm)$/, (r) => r.abort());
    target = await extra.newPage();
    await target.goto(page.url());
  }
  const results = await new AxeBuilder({ page: target }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  await extra?.close();
  const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(found, [], `axe on ${where}`);
}

/** Answers the identity check and waits for the server function to answer. */
export async function answer(page, dob, zip) {
  await page.locator('#dob').fill(dob);
  await page.locator('#zip').fill(zip);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/verify')),
    page.locator('main button[type=submit]').click(),
  ]);
}

/** Signs an agency user in to the console (JavaScript on or off); returns the page. */
export async function consoleSignIn(browser, server, js, who) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  page.__nojs = !js;
  await page.goto(`${server.base}/agency/disputes`);
  await page.waitForURL(/\/agency\/sign-in$/);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/agency\/disputes$/);
  return page;
}
