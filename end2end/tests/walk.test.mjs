// The debtor's walk through the portal, once with JavaScript and once without: link, wrong
// answers and the lockout, the identity check, the account, the validation notice after
// E-SIGN consent, contact preferences, Spanish. axe-core checks every page; screenshots at
// 360 px and 1280 px go to end2end/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answer, axeCheck, launchBrowser, startServer } from './harness.mjs';

const shots = resolve(fileURLToPath(new URL('.', import.meta.url)), '../screenshots');
mkdirSync(shots, { recursive: true });

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

async function shoot(page, name) {
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 360, height: 900 });
}

for (const js of [true, false]) {
  const mode = js ? 'js' : 'nojs';
  const [locked, walker] = js ? ['DEMO-1003', 'DEMO-1006'] : ['DEMO-1004', 'DEMO-1005'];

  test(`the debtor walk with JavaScript ${js ? 'on' : 'off'}`, async () => {
    const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 360, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    page.__nojs = !js;
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // Five wrong answers lock the check; then even the right ones are refused.
    const [lockedDob, lockedZip] = server.sql(`SELECT date_of_birth, postal_code FROM accounts WHERE account_ref = '${locked}'`);
    await page.goto(server.link(locked));
    assert.match(page.url(), /\/verify$/);
    const before = await page.content();
    assert.doesNotMatch(before, /Medical|Bank|\$[0-9]/, 'nothing about the debt before the check');
    for (let i = 1; i <= 5; i++) {
      await answer(page, '1900-01-01', lockedZip);
      await page.getByTestId('flash').waitFor();
      const text = await page.getByTestId('flash').textContent();
      assert.match(text, i < 5 ? /do not match/ : /Too many tries/, `try ${i}`);
    }
    await answer(page, lockedDob, lockedZip);
    assert.match(await page.getByTestId('flash').textContent(), /Too many tries/);

    // Another account, by link: one wrong answer, then the right ones.
    const [dob, zip] = server.sql(`SELECT date_of_birth, postal_code FROM accounts WHERE account_ref = '${walker}'`);
    await page.goto(server.link(walker));
    await axeCheck(browser, page, 'verify');
    await shoot(page, `${mode}-verify`);
    await answer(page, dob, '99999');
    assert.match(await page.getByTestId('flash').textContent(), /do not match/);
    await answer(page, dob, zip);
    await page.waitForURL(/\/account$/);
    await page.getByTestId('balance').waitFor();
    assert.match(await page.getByTestId('balance').textContent(), /^\$[0-9,]+\.[0-9]{2}$/);
    assert.equal(await page.locator('[data-testid=itemization] tr').count(), 7);
    await axeCheck(browser, page, 'account');
    await shoot(page, `${mode}-account`);

    // The validation notice needs E-SIGN consent first.
    await page.getByRole('link', { name: 'Read your validation notice' }).click();
    await page.waitForURL(/\/notice$/);
    await page.getByRole('button', { name: 'Show my notice' }).click();
    await page.getByTestId('flash').waitFor();
    assert.match(await page.getByTestId('flash').textContent(), /tick the box/);
    await page.getByLabel(/I agree to receive this notice/).check();
    await page.getByRole('button', { name: 'Show my notice' }).click();
    await page.getByTestId('notice').waitFor();
    assert.match(await page.getByTestId('validation-end').textContent(), /^\d{4}-\d{2}-\d{2}$/);
    assert.match(await page.getByTestId('notice').textContent(), /This is not my debt/);
    // The print button is an island: it appears once hydrated, and never without JavaScript.
    if (js) {
      await page.getByTestId('print').waitFor();
    } else {
      assert.equal(await page.getByTestId('print').count(), 0);
    }
    const [deliveries] = server.sql(`SELECT COUNT(*) FROM notice_deliveries d JOIN accounts a ON a.id = d.account_id WHERE a.account_ref = '${walker}'`);
    assert.equal(deliveries, '1');
    await axeCheck(browser, page, 'notice');
    await shoot(page, `${mode}-notice`);

    // Preferences are saved and read back.
    await page.goto(server.base + '/preferences');
    await page.getByLabel('From', { exact: true }).fill('12:00');
    await page.getByLabel('To', { exact: true }).fill('14:00');
    await page.getByLabel('Phone call').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('flash').waitFor();
    assert.match(await page.getByTestId('flash').textContent(), /saved/);
    assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '12:00');
    assert.equal(await page.getByLabel('Phone call').isChecked(), true);
    const [times] = server.sql(`SELECT p.inconvenient_times FROM contact_preferences p JOIN accounts a ON a.id = p.account_id WHERE a.account_ref = '${walker}'`);
    assert.equal(times, '12:00-14:00');

    // A bad phone number changes nothing; a good one and an email are stored.
    await page.getByLabel('Mobile phone').fill('555');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('flash').filter({ hasText: /phone number is not valid/ }).waitFor();
    await page.getByLabel('Mobile phone').fill('(617) 555-0142');
    await page.getByLabel('Email address').fill('walker@example.com');
    // Stop texts, then start them again: two separate, explicit boxes.
    await page.getByLabel('Stop all text messages').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('sms-stopped').waitFor();
    const sms = () => server.sql(`SELECT c.opted_out FROM channel_consents c JOIN accounts a ON a.id = c.account_id WHERE a.account_ref = '${walker}' AND c.channel = 'sms'`)[0];
    assert.equal(sms(), '1');
    assert.equal(await page.getByLabel('Mobile phone').inputValue(), '+16175550142');
    const [contact] = server.sql(`SELECT phone || ' ' || email FROM accounts WHERE account_ref = '${walker}'`);
    assert.equal(contact, '+16175550142 walker@example.com');
    await page.getByLabel('Start text messages again').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByLabel('Stop all text messages').waitFor();
    assert.equal(sms(), '0');
    await axeCheck(browser, page, 'preferences');
    await shoot(page, `${mode}-preferences`);

    // Spanish, from the switch on every page.
    await page.getByTestId('lang-switch').click();
    await page.waitForURL(/\/preferences$/);
    await page.getByRole('heading', { name: 'Preferencias de contacto' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'es');
    await axeCheck(browser, page, 'preferencias');
    await shoot(page, `${mode}-preferencias`);

    assert.deepEqual(errors, []);
    await context.close();
  });
}

test("the account's language decides until the debtor picks one", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US' });
  const page = await context.newPage();
  const [dob, zip] = server.sql("SELECT date_of_birth, postal_code FROM accounts WHERE account_ref = 'DEMO-1001'");
  await page.goto(server.link('DEMO-1001'));
  await answer(page, dob, zip);
  await page.waitForURL(/\/account$/);
  await page.getByRole('heading', { name: 'Su cuenta' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'es');
  await page.getByTestId('lang-switch').click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await context.close();
});

test('the reference from a letter works like a link, and an unknown one reveals nothing', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US' });
  const page = await context.newPage();
  const [dob, zip] = server.sql("SELECT date_of_birth, postal_code FROM accounts WHERE account_ref = 'DEMO-1008'");
  for (const reference of ['NOPE-404', 'DEMO-1008']) {
    await page.goto(server.base + '/');
    await page.getByLabel('Account reference (from your letter)').fill(reference);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/verify$/);
    await answer(page, dob, zip);
    if (reference === 'NOPE-404') {
      assert.match(await page.getByTestId('flash').textContent(), /do not match/);
    } else {
      await page.waitForURL(/\/account$/);
      await page.getByTestId('balance').waitFor();
    }
  }
  // Signing out ends the session: the account page sends back to the check.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/signed_out/);
  await page.goto(server.base + '/account');
  assert.match(page.url(), /\/verify$/);
  await context.close();
});

test('a forged, an expired-looking and a malformed link all lead to the start page', async () => {
  for (const path of ['/l/AAAAAAAAAAAA', '/l/short', '/l/AAAAAAAAAAAA%2F']) {
    const res = await fetch(server.base + path, { redirect: 'manual' });
    assert.equal(res.status, 303, path);
    assert.equal(res.headers.get('location'), '/?link=invalid');
  }
  const link = server.link('DEMO-1010');
  const path = new URL(link).pathname;
  assert.ok(path.length < 16, `${path} fits in a text message`);
});

test('a cross-site form post is refused', async () => {
  const res = await fetch(server.base + '/api/verify', {
    method: 'POST',
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'dob=1970-01-01&zip=00000',
  });
  assert.equal(res.status, 403);
});
