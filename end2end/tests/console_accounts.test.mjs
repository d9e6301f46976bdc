// The console's account work: an admin imports a file with bad rows (each listed with its
// line, the error report downloadable), finds an account by name, reads its ledger and
// timeline, adds a note and an adjustment (JavaScript on and off), reads the audit log and
// the reports (SVG charts, CSV export);
// an admin makes and revokes an API key (shown once);
// a read-only user changes nothing even by posting directly, and cannot read the audit log or keys.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeCheck, consoleSignIn, launchBrowser, startServer } from './harness.mjs';

const ADMIN = { email: 'ada@demo.test', password: 'a long admin password' };
const READER = { email: 'rex@demo.test', password: 'a long reader password' };
const HEADER = 'account_ref,creditor,first_name,last_name,date_of_birth,phone,email,address_line1,city,state,postal_code,itemization_date,balance_at_itemization,interest_since,fees_since,payments_since,credits_since,current_balance,time_zone,language,sms_consent';
const row = (ref, last) => `${ref},Acme Medical,Iris,${last},1984-02-29,(617) 555-0177,iris@example.com,1 Main St,Boston,MA,02134,2026-01-31,1000.00,12.50,0,100.00,0,912.50,America/New_York,en,yes`;

let server;
let browser;
let dir;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'settle-console-accounts-'));
  server.settleWith({ SETTLE_USER_PASSWORD: ADMIN.password }, 'users', 'add', '--email', ADMIN.email, '--name', 'Ada Admin', '--role', 'admin');
  server.settleWith({ SETTLE_USER_PASSWORD: READER.password }, 'users', 'add', '--email', READER.email, '--name', 'Rex Reader', '--role', 'read_only');
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('an admin imports a file with bad rows, works an account and reads the audit log', async () => {
  const page = await consoleSignIn(browser, server, true, ADMIN);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Import' }).click();
  await page.waitForURL(/\/agency\/import$/);
  await axeCheck(browser, page, 'console import');

  const file = join(dir, 'placements.csv');
  writeFileSync(file, [
    HEADER,
    row('E2E-1', 'Quintana'), // line 2
    row('E2E-2', 'Quintana').replace('912.50', '900.00'), // line 3: the itemization does not add up
    row('E2E-3', 'Quintana'), // line 4
    row('E2E-4', ''), // line 5: no last name
  ].join('\n') + '\n');
  await page.getByLabel(/Placement file/).setInputFiles(file);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/agency\/imports\/\d+$/);
  assert.match(await page.getByTestId('flash').textContent(), /The file is imported/);
  assert.equal((await page.getByTestId('imported').textContent()).trim(), '2');
  assert.equal((await page.getByTestId('rejected').textContent()).trim(), '2');
  const bad = await page.getByTestId('bad-rows').locator('tbody tr').allTextContents();
  assert.equal(bad.length, 2);
  assert.match(bad[0], /^3E2E-2.*does not equal/);
  assert.match(bad[1], /^5E2E-4.*last_name is required/);
  await axeCheck(browser, page, 'import result');
  const report = await page.request.get(server.base + await page.getByTestId('error-report').getAttribute('href'));
  assert.equal(report.status(), 200);
  assert.match(report.headers()['content-disposition'], /attachment/);
  const lines = (await report.text()).trim().split('\n');
  assert.equal(lines[0], 'line,account_ref,reason');
  assert.match(lines[1], /^3,E2E-2,/);
  assert.match(lines[2], /^5,E2E-4,/);

  // Find by last name, open the account.
  await page.getByRole('link', { name: 'Accounts' }).click();
  await page.getByLabel(/Account reference, phone, or name/).fill('quintana');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForURL(/\/agency\/accounts\?q=quintana$/);
  const hits = await page.getByTestId('hits').locator('tbody tr').allTextContents();
  assert.deepEqual(hits.map((h) => h.slice(0, 5)), ['E2E-1', 'E2E-3']);
  await axeCheck(browser, page, 'account search');
  await page.getByRole('link', { name: 'E2E-1' }).click();
  await page.waitForURL(/\/agency\/accounts\/\d+$/);
  const accountUrl = page.url();
  assert.match(await page.getByTestId('console-balance').textContent(), /\$912\.50/);
  assert.match(await page.getByTestId('console-ledger').textContent(), /placement/);
  assert.match(await page.getByTestId('console-timeline').textContent(), /posting · import:\d+\s*placement/);
  await axeCheck(browser, page, 'console account');

  // A note and an adjustment land in the timeline and the ledger.
  await page.getByLabel('Add a note').fill('Called back: will pay Friday.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByTestId('flash').filter({ hasText: 'note is added' }).waitFor();
  assert.match(await page.getByTestId('console-timeline').textContent(), /note · Ada Admin\s*Called back: will pay Friday\./);
  await page.getByLabel(/Adjust the balance by/).fill('-12.50');
  await page.getByLabel('Reason').fill('Interest waived');
  await page.getByRole('button', { name: 'Post adjustment' }).click();
  await page.getByTestId('flash').filter({ hasText: 'adjustment is posted' }).waitFor();
  assert.match(await page.getByTestId('console-balance').textContent(), /\$900\.00/);
  assert.match(await page.getByTestId('console-ledger').textContent(), /adjustment.*Interest waived.*Ada Admin/);
  await page.context().close();

  // The same forms work with JavaScript off.
  const plain = await consoleSignIn(browser, server, false, ADMIN);
  await plain.goto(accountUrl);
  await plain.getByLabel('Add a note').fill('Second note, no script.');
  await plain.getByRole('button', { name: 'Add note' }).click();
  await plain.waitForURL(accountUrl);
  assert.match(await plain.getByTestId('flash').textContent(), /note is added/);
  assert.match(await plain.getByTestId('console-timeline').textContent(), /Second note, no script\./);

  // The audit log holds each change with who made it.
  await plain.getByRole('link', { name: 'Audit log' }).click();
  await plain.waitForURL(/\/agency\/audit$/);
  const audit = await plain.getByTestId('audit').locator('tbody tr').allTextContents();
  assert.equal(audit.length, 4);
  assert.match(audit[0], /Ada Admin.*note.*E2E-1.*Second note/);
  assert.match(audit[1], /adjustment.*E2E-1.*-12\.50 USD.*Interest waived/);
  assert.match(audit[2], /note.*E2E-1/);
  assert.match(audit[3], /import.*placements\.csv.*2 imported.*2 rejected/);
  await axeCheck(browser, plain, 'audit log');

  // Reports: the call-deflection headline, charts drawn as SVG, each table as CSV.
  await plain.getByRole('link', { name: 'Reports' }).click();
  await plain.waitForURL(/\/agency\/reports$/);
  assert.match(await plain.getByTestId('deflection').textContent(), /without any agent action|No account paid/);
  const disputes = plain.getByTestId('chart-disputes');
  await disputes.waitFor();
  assert.match(await disputes.locator('title').textContent(), /Disputes/);
  assert.ok(await disputes.locator('rect').count() >= 1);
  await axeCheck(browser, plain, 'reports');
  const csv = await plain.request.get(server.base + await plain.getByTestId('csv-disputes').getAttribute('href'));
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /^step,count\nopened,\d+\nanswered,\d+\n$/);
  // A range that cannot be used says why.
  await plain.goto(`${server.base}/agency/reports?from=2026-12-31&to=2026-01-01`);
  assert.match(await plain.getByRole('alert').textContent(), /ends before it starts/);
  await plain.context().close();
});

test('a read-only user reads accounts but changes nothing, even posting directly', async () => {
  // The admin's page gives the server functions' addresses.
  const admin = await consoleSignIn(browser, server, true, ADMIN);
  const id = server.sql(`SELECT id FROM accounts WHERE account_ref = 'DEMO-1001'`)[0];
  await admin.goto(`${server.base}/agency/accounts/${id}`);
  const noteUrl = await admin.locator('form').filter({ has: admin.locator('#note-body') }).getAttribute('action');
  const adjustUrl = await admin.locator('form').filter({ has: admin.locator('#adjust-amount') }).getAttribute('action');
  await admin.context().close();

  const page = await consoleSignIn(browser, server, false, READER);
  await page.goto(`${server.base}/agency/accounts/${id}`);
  await page.getByTestId('console-ledger').waitFor();
  assert.equal(await page.locator('#note-body').count(), 0);
  assert.equal(await page.locator('#adjust-amount').count(), 0);
  await axeCheck(browser, page, 'read-only account');
  const counts = () => server.sql(`SELECT (SELECT COUNT(*) FROM account_notes) || ',' || (SELECT COUNT(*) FROM postings) || ',' || (SELECT COUNT(*) FROM import_runs) || ',' || (SELECT COUNT(*) FROM audit_log)`)[0];
  const before = counts();
  // As a browser posts a form: the server function then redirects to the page, which shows
  // why nothing changed.
  const headers = { Origin: server.base, Accept: 'text/html' };
  const note = await page.request.post(server.base + noteUrl, { form: { id, body: 'try' }, headers });
  assert.match(await note.text(), /Your role is read-only: nothing was changed/);
  const adjust = await page.request.post(server.base + adjustUrl, { form: { id, amount: '-1.00', reason: 'try', key: 'k' }, headers });
  assert.match(await adjust.text(), /Your role is read-only: nothing was changed/);
  const upload = await page.request.post(`${server.base}/agency/import/upload`, {
    multipart: { file: { name: 'x.csv', mimeType: 'text/csv', buffer: Buffer.from(`${HEADER}\n${row('RO-1', 'Reader')}\n`) } },
    headers,
  });
  assert.match(await upload.text(), /Your role is read-only: nothing was changed/);
  assert.equal(counts(), before);

  await page.goto(`${server.base}/agency/audit`);
  assert.match(await page.getByRole('alert').textContent(), /Only an admin can read the audit log/);
  assert.equal(await page.getByRole('link', { name: 'Audit log' }).count(), 0);
  await page.context().close();
});

test('an agent answers an inbox message through the compliance engine and closes it', async () => {
  // The debtor of DEMO-1001 writes something only a person can answer.
  const phone = server.sql(`SELECT phone FROM accounts WHERE account_ref = 'DEMO-1001'`)[0];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const handset = await context.newPage();
  await handset.goto(`${server.base}/demo/phone`);
  await handset.getByLabel('From number').fill(phone);
  await handset.getByLabel('Message').fill('Could we split it, half now and half in January?');
  await handset.getByRole('button', { name: 'Send reply' }).click();
  await handset.getByTestId('flash').waitFor();
  await context.close();

  const page = await consoleSignIn(browser, server, true, ADMIN);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Inbox' }).click();
  await page.waitForURL(/\/agency\/inbox$/);
  const row = page.getByTestId('inbox').getByRole('row').filter({ hasText: 'half in January' });
  assert.match(await row.textContent(), /DEMO-1001.*unassigned/);
  await axeCheck(browser, page, 'inbox');
  await row.getByRole('link').click();
  await page.waitForURL(/\/agency\/inbox\/\d+$/);
  await axeCheck(browser, page, 'inbox message');

  await page.getByLabel('Assign to').selectOption({ label: 'Ada Admin' });
  await page.getByRole('button', { name: 'Assign' }).click();
  await page.getByTestId('flash').filter({ hasText: 'assignment is saved' }).waitFor();
  assert.match(await page.getByTestId('inbox-message').textContent(), /Assigned toAda Admin/);

  // The engine decides: at this hour it is queued, or held back with its reasons; either
  // way it is audited (the storage suite checks the decision log).
  const answers = () => Number(server.sql(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'inbox_answer%'`)[0]);
  const before = answers();
  await page.getByLabel(/^Answer/).fill('Yes: set up a plan in the portal and choose the dates.');
  await page.getByRole('button', { name: 'Send answer' }).click();
  await page.getByTestId('flash').filter({ hasText: /allowed and queued|compliance engine says/ }).waitFor();
  assert.equal(answers(), before + 1);
  if (/allowed and queued/.test(await page.getByTestId('flash').textContent())) {
    assert.match(await page.getByTestId('inbox-answered').textContent(), /answered/);
    assert.equal(server.sql(`SELECT COUNT(*) FROM outbox WHERE kind = 'agent_reply' AND body LIKE 'Yes: set up a plan%'`)[0], '1');
  }

  await page.getByRole('button', { name: 'Close message' }).click();
  await page.getByTestId('flash').filter({ hasText: 'message is closed' }).waitFor();
  assert.match(await page.getByTestId('inbox-state').textContent(), /closed by Ada Admin/);
  assert.equal(await page.getByRole('button', { name: 'Send answer' }).count(), 0);
  await page.goto(`${server.base}/agency/inbox?view=closed`);
  assert.match(await page.getByTestId('inbox').textContent(), /half in January/);
  await page.context().close();
});

test('an admin sets payment terms per creditor and a stricter contact policy; looser is refused', async () => {
  const page = await consoleSignIn(browser, server, false, ADMIN);
  await page.goto(`${server.base}/agency/rules`);
  await axeCheck(browser, page, 'rules');
  const policyUrl = await page.locator('form').filter({ has: page.locator('#texts') }).getAttribute('action');

  // Looser than the law: refused with the reason, nothing stored.
  await page.getByLabel('Texts per 7 days').fill('10');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await page.waitForURL(/\/agency\/rules$/);
  assert.match(await page.getByTestId('flash').textContent(), /Nothing changed: .*texts_per_7_days may not exceed 3/);
  await page.getByLabel('Texts per 7 days').fill('2');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await page.waitForURL(/\/agency\/rules$/);
  assert.match(await page.getByTestId('flash').textContent(), /contact policy is saved/);
  assert.equal(await page.getByLabel('Texts per 7 days').inputValue(), '2');

  // Northwind Wireless's own settlement terms.
  const section = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Northwind Wireless' }) });
  await section.getByLabel('Offer settlements').check();
  await section.getByLabel(/Smallest share of the balance/).fill('70');
  await section.getByRole('button', { name: 'Save terms' }).click();
  await page.waitForURL(/\/agency\/rules$/);
  assert.match(await page.getByTestId('flash').textContent(), /payment terms are saved/);
  const stored = JSON.parse(server.sql(`SELECT terms FROM payment_terms WHERE creditor = 'Northwind Wireless'`)[0]);
  assert.equal(stored.settlement.min_share_bp, 7000);
  await page.context().close();

  // A reader sees the rules and changes nothing, even posting directly.
  const reader = await consoleSignIn(browser, server, false, READER);
  await reader.goto(`${server.base}/agency/rules`);
  assert.match(await reader.locator('main').textContent(), /Only an admin changes rules/);
  assert.equal(await reader.getByRole('button', { name: 'Save policy' }).count(), 0);
  const tried = await reader.request.post(server.base + policyUrl, {
    form: { day_start: '08:00', day_end: '21:00', texts_per_7_days: '1', calls_per_7_days: '7', reply_window_minutes: '10' },
    headers: { Origin: server.base, Accept: 'text/html' },
  });
  assert.match(await tried.text(), /Only an admin changes rules: nothing was changed/);
  assert.match(server.sql(`SELECT policy FROM compliance_policies`)[0], /"texts_per_7_days":2/);
  await reader.context().close();
});

test('an admin makes an API key (shown once), it opens the API, and revoking it shuts it; others cannot', async () => {
  for (const js of [true, false]) {
    const page = await consoleSignIn(browser, server, js, ADMIN);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'API access' }).click();
    await page.waitForURL(/\/agency\/api-keys$/);
    await axeCheck(browser, page, `API access (js ${js})`);
    const name = `billing-${js ? 'js' : 'nojs'}`;
    await page.getByLabel('Name (what uses it)').fill(name);
    await page.getByLabel(/Read accounts and ledgers/).check();
    await page.getByRole('button', { name: 'Make key' }).click();
    await page.getByTestId('new-key').waitFor();
    const key = (await page.getByTestId('new-key').locator('code.secret').textContent()).trim();
    assert.match(key, /^stl_[A-Za-z0-9]{32}$/);
    assert.match(await page.getByTestId('flash').textContent(), /shown only this once/);
    await axeCheck(browser, page, `new API key (js ${js})`);
    const row = page.getByTestId('api-keys').getByRole('row').filter({ hasText: name });
    assert.match(await row.textContent(), /accounts:read.*never/);

    // Shown once: the next view of the page no longer has it.
    await page.reload();
    await page.getByTestId('api-keys').waitFor();
    assert.equal(await page.getByTestId('new-key').count(), 0);
    assert.ok(!(await page.content()).includes(key));

    const read = () => fetch(`${server.base}/api/v1/accounts?limit=1`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await read()).status, 200);
    const write = await fetch(`${server.base}/api/v1/accounts`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"accounts": []}',
    });
    assert.equal(write.status, 403);

    await page.getByRole('button', { name: `Revoke the key ${name}` }).click();
    await page.getByTestId('flash').filter({ hasText: 'revoked' }).waitFor();
    assert.match(await page.getByTestId('api-keys').getByRole('row').filter({ hasText: name }).textContent(), /Revoked/);
    assert.equal((await read()).status, 401);
    await page.context().close();
  }
  assert.match(server.sql(`SELECT group_concat(action) FROM audit_log WHERE action LIKE 'api_key%'`)[0], /api_key_created.*api_key_revoked/);

  // A read-only user sees no keys and cannot make one by posting directly.
  const admin = await consoleSignIn(browser, server, true, ADMIN);
  await admin.goto(`${server.base}/agency/api-keys`);
  const makeUrl = await admin.locator('form').filter({ has: admin.locator('#key-name') }).getAttribute('action');
  await admin.context().close();
  const reader = await consoleSignIn(browser, server, false, READER);
  assert.equal(await reader.getByRole('link', { name: 'API access' }).count(), 0);
  await reader.goto(`${server.base}/agency/api-keys`);
  assert.match(await reader.locator('main').textContent(), /Only an admin manages API keys/);
  const keys = server.sql('SELECT COUNT(*) FROM api_keys')[0];
  const tried = await reader.request.post(server.base + makeUrl, {
    form: { name: 'sneaky', accounts_read: 'on', accounts_write: 'on', webhooks: 'on' },
    headers: { Origin: server.base, Accept: 'text/html' },
  });
  assert.match(await tried.text(), /Only an admin manages API keys: nothing was changed/);
  assert.equal(server.sql('SELECT COUNT(*) FROM api_keys')[0], keys);
  await reader.context().close();
});
