// Disputes in the portal, JavaScript on and off: the B-1 form refuses a missing reason, a
// file over 5 MB and a renamed executable, records a written dispute with a document, holds
// collection until the agency's answer is delivered, and no other debtor (or anonymous
// visitor) can read the dispute or its files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answer, axeCheck, launchBrowser, startServer } from './harness.mjs';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c489', 'hex');
const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1');
const EXE = Buffer.concat([Buffer.from('4d5a90000300000004000000ffff0000', 'hex'), Buffer.alloc(512)]);

let server;
let browser;
let refs;
let dir;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'settle-dispute-'));
  refs = server
    .sql(`SELECT group_concat(account_ref, ',') FROM (SELECT a.account_ref FROM accounts a
          WHERE a.language = 'en'
            AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.account_id = a.id)
          ORDER BY a.account_ref LIMIT 3)`)[0]
    .split(',');
  assert.equal(refs.length, 3);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(js, ref) {
  const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 360, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  page.__nojs = !js;
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.__errors = errors;
  const [dob, zip] = server.sql(`SELECT date_of_birth, postal_code FROM accounts WHERE account_ref = '${ref}'`);
  await page.goto(server.link(ref));
  await answer(page, dob, zip);
  await page.waitForURL(/\/account$/);
  return page;
}

async function send(page, { reason, details, file }) {
  if (reason) await page.getByLabel(reason).check();
  if (details) await page.getByLabel(/Describe the problem/).fill(details);
  if (file) await page.locator('#evidence').setInputFiles(file);
  await page.getByRole('button', { name: 'Send my dispute' }).click();
}

async function flash(page) {
  await page.getByTestId('flash').waitFor();
  return page.getByTestId('flash').textContent();
}

for (const js of [true, false]) {
  test(`dispute online with a document, the hold, the answer; JavaScript ${js ? 'on' : 'off'}`, async () => {
    const ref = js ? refs[0] : refs[1];
    const page = await signIn(js, ref);
    await page.getByTestId('dispute-link').click();
    await page.waitForURL(/\/dispute$/);
    await axeCheck(browser, page, 'dispute form');
    await page.screenshot({ path: join(dir, `dispute-360-${js}.png`), fullPage: true });

    // Refused, and nothing recorded: no reason, a file over 5 MB, an executable named .pdf.
    await send(page, {});
    assert.match(await flash(page), /Choose a reason/);
    const big = Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024)]);
    await send(page, { reason: 'The amount is wrong.', file: { name: 'photo.png', mimeType: 'image/png', buffer: big } });
    assert.match(await flash(page), /larger than 5 MB/);
    await send(page, { reason: 'The amount is wrong.', file: { name: 'statement.pdf', mimeType: 'application/pdf', buffer: EXE } });
    assert.match(await flash(page), /Only PDF, JPEG and PNG/);
    assert.equal(server.sql(`SELECT COUNT(*) FROM disputes d JOIN accounts a ON a.id = d.account_id WHERE a.account_ref = '${ref}'`)[0], '0');

    await send(page, {
      reason: 'The amount is wrong.',
      details: 'I paid $100 in May.',
      file: { name: 'bank receipt.png', mimeType: 'image/png', buffer: PNG },
    });
    await page.waitForURL(/\/disputes\/\d+\?new=1$/);
    const id = page.url().match(/\/disputes\/(\d+)/)[1];
    assert.match(await page.getByTestId('written-dispute').textContent(), /written dispute .*12 CFR 1006\.38/);
    assert.equal(await page.getByTestId('dispute-status').textContent(), 'Waiting for our answer. Collection is stopped.');
    await axeCheck(browser, page, 'dispute confirmation');
    const [status, origin, written] = server.sql(`SELECT status, origin, written FROM disputes WHERE id = ${id}`);
    assert.deepEqual([status, origin, written], ['open', 'portal', '1']);

    // The document comes back to its owner only, as a download of the sniffed type.
    const href = await page.getByTestId('dispute-files').getByRole('link').getAttribute('href');
    const own = await page.request.get(server.base + href);
    assert.equal(own.status(), 200);
    assert.equal(own.headers()['content-type'], 'image/png');
    assert.match(own.headers()['content-disposition'], /^attachment; filename="bank receipt.png"$/);
    assert.deepEqual(Buffer.from(await own.body()), PNG);
    const stranger = await signIn(js, refs[2]);
    await stranger.goto(`${server.base}/disputes/${id}`);
    await stranger.getByTestId('dispute-missing').waitFor();
    assert.equal((await stranger.request.get(server.base + href)).status(), 404);
    const anonymous = await browser.newContext();
    assert.equal((await anonymous.request.get(server.base + href)).status(), 404);
    const anonPage = await anonymous.newPage();
    await anonPage.goto(`${server.base}/disputes/${id}`);
    await anonPage.waitForURL(/\/verify$/);
    await anonymous.close();
    await stranger.context().close();

    // The agency answers with a verification document; the hold stays until the debtor
    // takes delivery, which needs consent to electronic delivery.
    const pdf = join(dir, `contract-${id}.pdf`);
    writeFileSync(pdf, PDF);
    server.settle('disputes', 'answer', id, '--kind', 'verified', '--message', 'The signed contract is attached.', '--document', pdf);
    await page.goto(`${server.base}/disputes/${id}`);
    assert.equal(await page.getByTestId('dispute-status').textContent(), 'We have answered. Open the answer below.');
    assert.equal(server.sql(`SELECT status FROM disputes WHERE id = ${id}`)[0], 'open');
    await axeCheck(browser, page, 'answer waiting');
    // The agency's document is not a way around taking delivery.
    const verification = server.sql(`SELECT id FROM dispute_files WHERE dispute_id = ${id} AND role = 'verification'`)[0];
    const early = await page.request.get(`${server.base}/disputes/${id}/files/${verification}`);
    assert.equal(early.status(), 404);
    await page.getByRole('button', { name: 'Show the answer' }).click();
    assert.match(await flash(page), /tick the box/);
    await page.getByLabel(/I agree to receive this answer/).check();
    await page.getByRole('button', { name: 'Show the answer' }).click();
    await page.getByTestId('dispute-answer').waitFor();
    assert.match(await page.getByTestId('dispute-answer').textContent(), /The signed contract is attached\./);
    assert.match(await page.getByTestId('dispute-files').textContent(), /contract-\d+\.pdf \(sent by us\)/);
    assert.deepEqual(server.sql(`SELECT status, delivered_via FROM disputes WHERE id = ${id}`), ['answered', 'portal']);
    assert.equal((await page.request.get(`${server.base}/disputes/${id}/files/${verification}`)).status(), 200);
    await axeCheck(browser, page, 'answer delivered');

    await page.goto(`${server.base}/account`);
    assert.match(await page.getByTestId('disputes').textContent(), /Answered/);
    assert.deepEqual(page.__errors, []);
    await page.context().close();
  });
}
