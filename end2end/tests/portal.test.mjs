// The start page and the server's plumbing: demo data, health, assets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the start page shows the collector and the demo data, and loads without errors', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
  await page.goto(server.base + '/');
  await page.waitForLoadState('networkidle');
  assert.equal(await page.locator('h1').textContent(), 'Resolve your account online');
  assert.match(await page.locator('.collector').textContent(), /Harbor Point Recovery/);
  assert.match(await page.getByTestId('demo-accounts').textContent(), /36 sample accounts/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.deepEqual(errors, []);
  await page.close();
});

test('without JavaScript the start page is complete', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(server.base + '/');
  assert.match(await page.getByTestId('demo-accounts').textContent(), /36 sample accounts/);
  // The "is this really from us" help opens without script (a native disclosure).
  await page.locator('details.genuine summary').click();
  assert.equal(await page.locator('details.genuine').getAttribute('open'), '');
  await context.close();
});

test('health, readiness and unknown pages answer as an operator expects', async () => {
  assert.equal(await (await fetch(server.base + '/healthz')).text(), 'ok');
  const ready = await fetch(server.base + '/readyz');
  assert.equal(ready.status, 200);
  const missing = await fetch(server.base + '/no-such-page');
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /Page not found/);
  const css = await fetch(server.base + '/pkg/settle.css');
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /text\/css/);
});

test('assets come compressed, revalidate with an ETag, and unknown ones are 404', async () => {
  let res;
  for (let i = 0; i < 100; i++) {
    res = await fetch(server.base + '/pkg/settle.wasm', { headers: { 'accept-encoding': 'br' } });
    if (res.headers.get('content-encoding') === 'br') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(res.headers.get('content-encoding'), 'br');
  assert.equal(res.headers.get('content-type'), 'application/wasm');
  assert.equal(res.headers.get('vary'), 'Accept-Encoding');
  const raw = await fetch(server.base + '/pkg/settle.wasm', { headers: { 'accept-encoding': 'identity' } });
  const rawBytes = (await raw.arrayBuffer()).byteLength;
  assert.equal(raw.headers.get('content-encoding'), null);
  assert.equal(rawBytes, Number(raw.headers.get('content-length')));
  const again = await fetch(server.base + '/pkg/settle.css', { headers: { 'if-none-match': res.headers.get('etag') } });
  assert.equal(again.status, 200, 'another file, another tag');
  const css = await fetch(server.base + '/pkg/settle.css');
  const cached = await fetch(server.base + '/pkg/settle.css', { headers: { 'if-none-match': css.headers.get('etag') } });
  assert.equal(cached.status, 304);
  assert.equal((await fetch(server.base + '/pkg/nothing.js')).status, 404);
});
