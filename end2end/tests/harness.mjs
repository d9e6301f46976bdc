// Starts the real Settle server on a free port with a fresh SQLite file, and a headless
// Debian Chromium driven by playwright-core. Everything stays on loopback.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

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

/** Starts `settle serve` (the build named by SETTLE_E2E_PROFILE, default debug). */
export async function startServer() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'settle-e2e-'));
  const profile = process.env.SETTLE_E2E_PROFILE ?? 'debug';
  const child = spawn(join(root, 'target', profile, 'settle'), ['serve'], {
    cwd: root,
    env: {
      ...process.env,
      SETTLE_DATABASE_URL: `sqlite:${join(dir, 'settle.db')}`,
      SETTLE_DEMO_DATA: 'true',
      SETTLE_LISTEN: `127.0.0.1:${port}`,
      SETTLE_SITE_ROOT: join(root, 'target', 'site'),
      SETTLE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
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
