// Text messages with the demo transport: the first message shows on the demo phone, its
// link opens the portal, a STOP reply opts out with one confirmation, and the next run
// sends nothing by text to that number.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { answer, axeCheck, launchBrowser, startServer } from './harness.mjs';

// A lawful hour everywhere in the US (13:00 in New York, 08:00 in Honolulu).
const CLOCK = '2026-12-01T18:00:00Z';
const THREE_DAYS_LATER = '2026-12-04T19:00:00Z';

let server;
let browser;

before(async () => {
  server = await startServer({ SETTLE_CLOCK_START: CLOCK, SETTLE_MESSAGING_INTERVAL_SECS: '1' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function until(what, check, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const count = (query) => Number(server.sql(query)[0]);

test('a reminder on the demo phone opens the portal; STOP opts out and the next run sends nothing', async () => {
  // An English-speaking account whose first message went out (some are denied: no consent,
  // an open dispute), on a number no other account shares.
  const pick = `SELECT a.id, a.account_ref, a.phone, a.date_of_birth, a.postal_code FROM accounts a
     JOIN outbox o ON o.account_id = a.id AND o.status = 'sent' AND o.kind = 'validation_link'
     WHERE a.language = 'en'
       AND a.phone NOT IN (SELECT phone FROM accounts GROUP BY phone HAVING COUNT(*) > 1)
     ORDER BY a.account_ref LIMIT 1`;
  await until('a first message', () => server.sql(pick)[0]);
  const [id, ref, phone, dob, zip] = server.sql(pick);
  assert.ok(ref, 'a demo account that takes texts');
  const context = await browser.newContext({ viewport: { width: 360, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${server.base}/demo/phone?to=${encodeURIComponent(phone)}`);
  const sms = page.getByTestId('sms');
  assert.equal(await sms.count(), 1);
  const text = await sms.first().textContent();
  assert.match(text, /Reply STOP to opt out\./);
  assert.match(text, /debt collector/);
  await axeCheck(browser, page, 'demo phone');

  await sms.first().getByRole('link').click();
  await page.waitForURL(/\/verify/);
  await answer(page, dob, zip);
  await page.waitForURL(/\/account$/);

  await page.goto(`${server.base}/demo/phone?to=${encodeURIComponent(phone)}`);
  await page.getByLabel('Message').fill('Stop texting me please');
  await page.getByRole('button', { name: 'Send reply' }).click();
  await page.getByTestId('flash').waitFor();
  assert.match(await page.getByTestId('flash').textContent(), /opt_out/);
  await until('the opt-out confirmation', () =>
    count(`SELECT COUNT(*) FROM outbox WHERE account_id = ${id} AND kind = 'opt_out_confirmation' AND status = 'sent'`) === 1);
  await page.reload();
  assert.match(await page.getByTestId('sms').first().textContent(), /no more text messages/);
  assert.match(await page.getByTestId('reply').first().textContent(), /opt_out/);

  // Three days later the reminder is due, and denied: nothing more by text.
  const before = count(`SELECT COUNT(*) FROM outbox WHERE account_id = ${id}`);
  const report = JSON.parse(server.settleWith({ SETTLE_CLOCK_START: THREE_DAYS_LATER }, 'messages', 'run'));
  assert.ok(report.schedule.decided > 0, JSON.stringify(report));
  assert.equal(count(`SELECT COUNT(*) FROM outbox WHERE account_id = ${id}`), before);
  const [decision, reasons] = server.sql(
    `SELECT decision, reasons FROM compliance_decisions WHERE account_id = ${id} ORDER BY id DESC LIMIT 1`,
  );
  assert.equal(decision, 'deny');
  assert.match(reasons, /opted_out/);
  await context.close();
});

test('the demo phone works without JavaScript and a PAY reply brings a fresh link', async () => {
  const [id, phone] = server.sql(
    `SELECT a.id, a.phone FROM accounts a WHERE a.sms_consent AND a.phone IS NOT NULL AND a.language = 'es'
       AND a.phone NOT IN (SELECT phone FROM accounts GROUP BY phone HAVING COUNT(*) > 1)
       AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.account_id = a.id)
       AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.account_id = a.id AND h.cleared_at IS NULL)
     ORDER BY a.account_ref LIMIT 1`,
  );
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/demo/phone`);
  await page.getByLabel('From number').fill(phone);
  await page.getByLabel('Message').fill('PAGAR');
  await page.getByRole('button', { name: 'Send reply' }).click();
  await page.getByTestId('flash').waitFor();
  assert.match(await page.getByTestId('flash').textContent(), /pay/);
  await until('the link', () =>
    count(`SELECT COUNT(*) FROM outbox WHERE account_id = ${id} AND kind = 'pay_link' AND status = 'sent'`) === 1);
  await page.reload();
  assert.match(await page.getByTestId('sms').first().textContent(), /enlace seguro: http/);
  await context.close();
});

test("a message about a page leads there after the identity check", async () => {
  const pick = `SELECT a.id, a.phone, a.date_of_birth, a.postal_code FROM accounts a
     JOIN outbox o ON o.account_id = a.id AND o.status = 'sent' AND o.kind = 'validation_link'
     WHERE a.language = 'en' AND a.phone NOT IN (SELECT phone FROM accounts GROUP BY phone HAVING COUNT(*) > 1)
       AND NOT EXISTS (SELECT 1 FROM channel_consents c WHERE c.account_id = a.id AND c.opted_out)
     ORDER BY a.account_ref DESC LIMIT 1`;
  await until('a first message', () => server.sql(pick)[0]);
  const [id, phone, dob, zip] = server.sql(pick);
  // As the payment flow asks for a "fix your card" message, here pointing at a page every
  // verified account has.
  server.sql(`INSERT INTO message_requests (account_id, purpose, subject, link_path, created_at)
              VALUES (${id}, 'instalment_failed', 'e2e:1', '/preferences', '${CLOCK}')`);
  await until('the message', () =>
    count(`SELECT COUNT(*) FROM outbox WHERE account_id = ${id} AND kind = 'instalment_failed' AND status = 'sent'`) === 1);
  const context = await browser.newContext({ viewport: { width: 360, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${server.base}/demo/phone?to=${encodeURIComponent(phone)}`);
  const sms = page.getByTestId('sms').filter({ hasText: 'could not take your plan payment' });
  await sms.getByRole('link').click();
  await page.waitForURL(/\/verify/);
  await answer(page, dob, zip);
  await page.waitForURL(/\/preferences$/);
  await context.close();
});
