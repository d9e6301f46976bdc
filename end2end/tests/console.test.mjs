// The agency console's dispute queue: sign-in (wrong password refused), the queue, a
// dispute with its evidence and the account's timeline, an answer with a verification
// document, mailed delivery lifting the hold, holds set and lifted with a reason; a
// read-only user changes nothing even by posting directly; a debtor's session is no
// console session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answer, axeCheck, consoleSignIn, launchBrowser, startServer } from './harness.mjs';

const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1');
const AGENT = { email: 'ann@demo.test', password: 'a long agent password' };
const READER = { email: 'rob@demo.test', password: 'a long reader password' };

let server;
let browser;
let dir;
let disputeId;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'settle-console-'));
  server.settleWith({ SETTLE_USER_PASSWORD: AGENT.password }, 'users', 'add', '--email', AGENT.email, '--name', 'Ann Agent', '--role', 'agent');
  server.settleWith({ SETTLE_USER_PASSWORD: READER.password }, 'users', 'add', '--email', READER.email, '--name', 'Rob Reader', '--role', 'read_only');
  // The demo's disputed account (DEMO-1002) asked for the original creditor too.
  disputeId = server.sql(`SELECT d.id FROM disputes d JOIN accounts a ON a.id = d.account_id WHERE a.account_ref = 'DEMO-1002'`)[0];
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const signIn = (js, who) => consoleSignIn(browser, server, js, who);

test('a read-only user sees but changes nothing, even posting directly; a debtor session is no console session', async () => {
  const agent = await signIn(true, AGENT);
  // Runs first: the demo dispute is still unanswered.
  const target = disputeId;
  await agent.goto(`${server.base}/agency/disputes/${target}`);
  const setHoldUrl = await agent.locator('form').filter({ has: agent.locator('#hold-kind') }).getAttribute('action');
  await agent.context().close();

  const page = await signIn(false, READER);
  await page.goto(`${server.base}/agency/disputes/${target}`);
  await page.getByTestId('console-dispute').waitFor();
  assert.equal(await page.getByTestId('answer-form').count(), 0);
  assert.equal(await page.locator('#hold-kind').count(), 0);
  await axeCheck(browser, page, 'read-only dispute');
  const before = server.sql(`SELECT COUNT(*) FROM holds`)[0];
  const held = await page.request.post(server.base + setHoldUrl, {
    form: { id: target, kind: 'cease', reason: 'try', contact: '' },
    headers: { Origin: server.base },
  });
  assert.ok(held.status() < 400, `${held.status()} ${await held.text()}`);
  assert.equal(server.sql(`SELECT COUNT(*) FROM holds`)[0], before);
  const answered = await page.request.post(`${server.base}/agency/disputes/${target}/answer`, {
    multipart: { kind: 'closed', message: 'try' },
    headers: { Origin: server.base },
  });
  // Refused with the reason, on the page the redirect leads to.
  assert.equal(answered.status(), 200);
  assert.match(await answered.text(), /Your role is read-only: nothing was changed/);
  assert.equal(server.sql(`SELECT answered_at IS NULL FROM disputes WHERE id = ${target}`)[0], '1');
  await page.context().close();

  // A verified debtor's portal session does not open the console.
  const debtor = await browser.newContext({ locale: 'en-US' });
  const d = await debtor.newPage();
  const [dob, zip] = server.sql(`SELECT date_of_birth, postal_code FROM accounts WHERE account_ref = 'DEMO-1001'`);
  await d.goto(server.link('DEMO-1001'));
  await answer(d, dob, zip);
  await d.waitForURL(/\/account$/);
  await d.goto(`${server.base}/agency/disputes`);
  await d.waitForURL(/\/agency\/sign-in$/);
  assert.equal((await d.request.get(`${server.base}/agency/disputes/${target}/files/1`)).status(), 404);
  await debtor.close();
});

test('an agent works the dispute queue: answer, mailed delivery, holds', async () => {
  // A wrong password is refused and says so.
  const context = await browser.newContext({ locale: 'en-US' });
  const guest = await context.newPage();
  await guest.goto(`${server.base}/agency/sign-in`);
  await guest.getByLabel('Email').fill(AGENT.email);
  await guest.getByLabel('Password').fill('not the password');
  await guest.getByRole('button', { name: 'Sign in' }).click();
  await guest.getByTestId('flash').waitFor();
  assert.match(await guest.getByTestId('flash').textContent(), /do not match/);
  await axeCheck(browser, guest, 'console sign-in');
  await context.close();

  const page = await signIn(true, AGENT);
  await axeCheck(browser, page, 'dispute queue');
  const row = page.getByTestId('queue').getByRole('row').filter({ hasText: 'DEMO-1002' });
  assert.match(await row.textContent(), /Not my debt/);
  await row.getByRole('link').click();
  await page.waitForURL(new RegExp(`/agency/disputes/${disputeId}$`));
  assert.match(await page.getByTestId('console-dispute').textContent(), /never had an account/);
  assert.match(await page.getByTestId('console-timeline').textContent(), /dispute \d+ opened: not_my_debt/);
  await axeCheck(browser, page, 'console dispute');

  // Without the original creditor's name and address nothing is recorded.
  const pdf = join(dir, 'contract.pdf');
  writeFileSync(pdf, PDF);
  await page.getByLabel('Message to the debtor').fill('Your signed contract is attached.');
  await page.locator('#documents').setInputFiles(pdf);
  await page.getByRole('button', { name: 'Send the answer' }).click();
  await page.getByTestId('flash').waitFor();
  assert.match(await page.getByTestId('flash').textContent(), /Nothing was recorded/);
  assert.equal(server.sql(`SELECT answered_at IS NULL FROM disputes WHERE id = ${disputeId}`)[0], '1');

  await page.getByLabel('Message to the debtor').fill('Your signed contract is attached.');
  await page.getByLabel(/Original creditor's name and address/).fill('First Bank, 1 Main St, Wilmington, DE 19801');
  await page.locator('#documents').setInputFiles(pdf);
  await page.getByRole('button', { name: 'Send the answer' }).click();
  await page.getByTestId('console-answer').waitFor();
  assert.match(await page.getByTestId('flash').textContent(), /answer is recorded/);
  assert.match(await page.getByTestId('console-files').textContent(), /contract\.pdf \(verification\)/);
  // Answered but not delivered: the hold stays.
  assert.deepEqual(server.sql(`SELECT status, answered_by FROM disputes WHERE id = ${disputeId}`), ['open', `user:${server.sql(`SELECT id FROM agency_users WHERE email = '${AGENT.email}'`)[0]}`]);
  const file = await page.getByTestId('console-files').getByRole('link').first().getAttribute('href');
  assert.equal((await page.request.get(server.base + file)).status(), 200);

  await page.getByRole('button', { name: 'Record as mailed' }).click();
  await page.getByTestId('console-delivered').waitFor();
  assert.deepEqual(server.sql(`SELECT status, delivered_via FROM disputes WHERE id = ${disputeId}`), ['answered', 'mail']);

  // Holds keep who and why; lifting needs a reason.
  await page.getByLabel('Set a hold').selectOption('attorney');
  await page.locator('#hold-reason').fill('Letter from counsel');
  await page.getByLabel(/Attorney's name and contact/).fill('J. Roe, (617) 555-0100');
  await page.getByRole('button', { name: 'Set hold' }).click();
  await page.getByTestId('console-holds').waitFor();
  assert.match(await page.getByTestId('console-holds').textContent(), /attorney: Letter from counsel; contact: J\. Roe.*set by user:\d+/);
  await page.getByLabel('Lift a hold').selectOption('attorney');
  await page.locator('#clear-reason').fill('Counsel withdrew');
  await page.getByRole('button', { name: 'Lift hold' }).click();
  await page.getByText(/Lifted: Counsel withdrew/).waitFor();
  await page.goto(`${server.base}/agency/disputes`);
  assert.equal(await page.getByTestId('queue').getByRole('row').filter({ hasText: 'DEMO-1002' }).count(), 0);
  await page.context().close();
});
