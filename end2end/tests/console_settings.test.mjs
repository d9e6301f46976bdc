// The console's settings: an admin changes the reminder cadence and a message's texts (a
// text with a variable that does not exist, or without its link, is refused with the
// reason), JavaScript off and on, and one creditor's own texts; a reader changes nothing
// even by posting directly; a user turns on two-step
// sign-in (the QR code's secret read off the page, codes computed here from RFC 6238), then
// signs in with password and code (a wrong code refused), JavaScript on and off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { axeCheck, consoleSignIn, launchBrowser, startServer } from './harness.mjs';

const ADMIN = { email: 'ava@demo.test', password: 'a long admin password' };
const READER = { email: 'ray@demo.test', password: 'a long reader password' };
const AGENTS = [
  { email: 'tia@demo.test', password: 'a long agent password', js: true },
  { email: 'tom@demo.test', password: 'a long agent password', js: false },
];

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  server.settleWith({ SETTLE_USER_PASSWORD: ADMIN.password }, 'users', 'add', '--email', ADMIN.email, '--name', 'Ava Admin', '--role', 'admin');
  server.settleWith({ SETTLE_USER_PASSWORD: READER.password }, 'users', 'add', '--email', READER.email, '--name', 'Ray Reader', '--role', 'read_only');
  for (const a of AGENTS) {
    server.settleWith({ SETTLE_USER_PASSWORD: a.password }, 'users', 'add', '--email', a.email, '--name', `Agent ${a.email}`, '--role', 'agent');
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** RFC 4648 base32 to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The six-digit RFC 6238 code (HMAC-SHA1, 30 s) for `secret` at `seconds`. */
function totp(secret, seconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const h = createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[19] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

test('the TOTP helper gives RFC 6238 appendix B codes', () => {
  const rfc = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.equal(totp(rfc, 59), '287082');
  assert.equal(totp(rfc, 1111111109), '081804');
});

test('an admin changes the cadence and a text; unusable ones are refused; a reader changes nothing', async () => {
  const page = await consoleSignIn(browser, server, false, ADMIN);
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Reminders' }).click();
  await page.waitForURL(/\/agency\/reminders$/);
  await axeCheck(browser, page, 'reminders');
  const cadence = page.getByTestId('cadence');
  const cadenceUrl = await cadence.locator('form').getAttribute('action');

  // Steps out of order are sorted; a day that is not a number is refused.
  await cadence.getByLabel('Step 2: day after placement').fill('4');
  await cadence.getByLabel('Step 4: day after placement').fill('thirty');
  await page.getByRole('button', { name: 'Save cadence' }).click();
  await page.waitForURL(/\/agency\/reminders$/);
  assert.match(await page.getByTestId('flash').textContent(), /Nothing changed: step 4: the day must be a whole number/);
  await cadence.getByLabel('Step 2: day after placement').fill('4');
  await cadence.getByLabel('Step 3: day after placement').fill('');
  await cadence.getByLabel('Step 4: day after placement').fill('30');
  await cadence.getByLabel('Step 5: day after placement').fill('20');
  await cadence.getByLabel(/a reminder every/).fill('21');
  await page.getByRole('button', { name: 'Save cadence' }).click();
  await page.waitForURL(/\/agency\/reminders$/);
  assert.match(await page.getByTestId('flash').textContent(), /cadence is saved/);
  const stored = JSON.parse(server.sql('SELECT cadence FROM messaging_settings')[0]);
  assert.deepEqual(stored.steps, [
    { day: 0, kind: 'validation_link' },
    { day: 4, kind: 'reminder' },
    { day: 20, kind: 'reminder' },
    { day: 30, kind: 'reminder' },
  ]);
  assert.equal(stored.repeat_every_days, 21);
  assert.equal(await cadence.getByLabel('Step 3: day after placement').inputValue(), '20');

  // A text naming the amount (no such variable), then one without its link: refused.
  const reminder = page.getByTestId('template-reminder');
  await reminder.getByLabel('English').fill('Hi {name}, you owe {amount}. {link}');
  await reminder.getByRole('button', { name: 'Save texts' }).click();
  await page.waitForURL(/\/agency\/reminders$/);
  assert.match(await page.getByTestId('flash').textContent(), /Nothing changed: .*\{amount\}.* is not allowed/);
  await reminder.getByLabel('English').fill('Hi {name}, {agency} here.');
  await reminder.getByRole('button', { name: 'Save texts' }).click();
  await page.waitForURL(/\/agency\/reminders$/);
  assert.match(await page.getByTestId('flash').textContent(), /Nothing changed: .*must contain \{link\}/);
  await reminder.getByLabel('English').fill('Hello {name},\r\nplease see {link} ({agency})');
  await reminder.getByRole('button', { name: 'Save texts' }).click();
  await page.waitForURL(/\/agency\/reminders$/);
  assert.match(await page.getByTestId('flash').textContent(), /texts are saved/);
  assert.match(await reminder.textContent(), /Your own text/);
  const saved = JSON.parse(server.sql('SELECT cadence FROM messaging_settings')[0]);
  assert.deepEqual(saved.templates, { reminder: { en: 'Hello {name}, please see {link} ({agency})' } });
  assert.equal(saved.steps.length, 4, 'saving a text keeps the cadence');
  // Emptying the box goes back to the built-in text.
  await reminder.getByLabel('English').fill('');
  await reminder.getByRole('button', { name: 'Save texts' }).click();
  await page.waitForURL(/\/agency\/reminders$/);
  assert.match(await reminder.textContent(), /Built-in text/);
  assert.match(await reminder.getByLabel('English').inputValue(), /a reminder from \{agency\}/);
  const audit = server.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'cadence'`)[0];
  assert.equal(audit, '3', 'each saved change is audited');

  // One creditor gets its own texts; the agency's stay as they are; then it follows the
  // agency's again.
  await page.getByLabel('Whose reminders').selectOption('Northwind Wireless');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/\/agency\/reminders\?creditor=Northwind(\+|%20)Wireless$/);
  assert.match(await page.getByTestId('whose').textContent(), /Northwind Wireless follows the agency's reminders/);
  assert.equal(await cadence.getByLabel('Step 3: day after placement').inputValue(), '20');
  const northwind = page.getByTestId('template-validation_link');
  await northwind.getByLabel('Spanish').fill('Northwind le escribe, {name}: {link}');
  await northwind.getByRole('button', { name: 'Save texts' }).click();
  await page.waitForURL(/\/agency\/reminders\?creditor=Northwind(\+|%20)Wireless$/);
  assert.match(await page.getByTestId('flash').textContent(), /texts are saved/);
  assert.match(await page.getByTestId('whose').textContent(), /Northwind Wireless's own reminders/);
  const own = server.sql(`SELECT creditor, cadence FROM creditor_cadences`);
  assert.equal(own[0], 'Northwind Wireless');
  assert.deepEqual(JSON.parse(own[1]).templates, { validation_link: { es: 'Northwind le escribe, {name}: {link}' } });
  assert.deepEqual(JSON.parse(own[1]).steps.map((s) => s.day), [0, 4, 20, 30], 'it starts from the agency\'s steps');
  await axeCheck(browser, page, 'reminders (a creditor)');
  await page.getByRole('button', { name: "Make Northwind Wireless follow the agency's reminders" }).click();
  await page.waitForURL(/\/agency\/reminders\?creditor=Northwind(\+|%20)Wireless$/);
  assert.match(await page.getByTestId('flash').textContent(), /follows the agency's reminders again/);
  assert.equal(server.sql(`SELECT COUNT(*) FROM creditor_cadences`)[0], '0');
  await page.context().close();

  const reader = await consoleSignIn(browser, server, false, READER);
  await reader.goto(`${server.base}/agency/reminders`);
  assert.match(await reader.locator('main').textContent(), /Only an admin changes reminders/);
  assert.match(await reader.getByTestId('cadence').textContent(), /Day 20: Reminder/);
  assert.equal(await reader.getByRole('button', { name: 'Save cadence' }).count(), 0);
  const tried = await reader.request.post(server.base + cadenceUrl, {
    form: { creditor: '', 'day[0]': '0', 'step_kind[0]': 'reminder', repeat_every_days: '', instalment_notice_days: '0', help_contact: 'x' },
    headers: { Origin: server.base, Accept: 'text/html' },
  });
  assert.match(await tried.text(), /Only an admin changes rules: nothing was changed/);
  assert.equal(JSON.parse(server.sql('SELECT cadence FROM messaging_settings')[0]).steps.length, 4);
  await axeCheck(browser, reader, 'reminders (read-only)');
  await reader.context().close();

  // With JavaScript on, the same form saves through the hydrated page.
  const hydrated = await consoleSignIn(browser, server, true, ADMIN);
  await hydrated.goto(`${server.base}/agency/reminders`);
  await hydrated.getByTestId('cadence').getByLabel('Step 5: day after placement').fill('45');
  await hydrated.getByRole('button', { name: 'Save cadence' }).click();
  await hydrated.getByTestId('flash').filter({ hasText: 'cadence is saved' }).waitFor();
  assert.deepEqual(JSON.parse(server.sql('SELECT cadence FROM messaging_settings')[0]).steps.map((s) => s.day), [0, 4, 20, 30, 45]);
  await hydrated.context().close();
});

test('a user turns on two-step sign-in, then needs a code to sign in (JavaScript on and off)', async () => {
  for (const agent of AGENTS) {
    const page = await consoleSignIn(browser, server, agent.js, agent);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Security' }).click();
    await page.waitForURL(/\/agency\/security$/);
    assert.match(await page.locator('main').textContent(), /Two-step sign-in is off/);
    await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
    await page.getByTestId('totp-secret').waitFor();
    await axeCheck(browser, page, `two-step setup (js ${agent.js})`);
    assert.equal(await page.getByRole('img', { name: /QR code/ }).count(), 1);
    const secret = (await page.getByTestId('totp-secret').textContent()).trim();

    await page.getByLabel('Code from the app').fill('000000' === totp(secret, Date.now() / 1000) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByTestId('flash').filter({ hasText: 'code is not right' }).waitFor();
    await page.getByLabel('Code from the app').fill(totp(secret, Date.now() / 1000));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByTestId('flash').filter({ hasText: 'Two-step sign-in is on' }).waitFor();
    assert.equal(server.sql(`SELECT totp_secret IS NOT NULL FROM agency_users WHERE email = '${agent.email}'`)[0], '1');
    assert.equal(server.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'two_step_on'`)[0], String(AGENTS.indexOf(agent) + 1));
    await page.context().close();

    // The password alone no longer signs in.
    const context = await browser.newContext({ javaScriptEnabled: agent.js, locale: 'en-US' });
    const next = await context.newPage();
    next.__nojs = !agent.js;
    await next.goto(`${server.base}/agency/sign-in`);
    await next.getByLabel('Email').fill(agent.email);
    await next.getByLabel('Password').fill(agent.password);
    await next.getByRole('button', { name: 'Sign in' }).click();
    await next.waitForURL(/\/agency\/sign-in\/code$/);
    await axeCheck(browser, next, `sign-in code (js ${agent.js})`);
    await next.goto(`${server.base}/agency/disputes`);
    assert.match(await next.locator('main').textContent(), /Sign in/);
    assert.equal(await next.getByTestId('queue').count(), 0);
    await next.goto(`${server.base}/agency/sign-in/code`);
    await next.getByLabel('Code from your authenticator app').fill('12345');
    await next.getByRole('button', { name: 'Continue' }).click();
    await next.getByTestId('flash').filter({ hasText: 'code is not right' }).waitFor();
    // The next step's code (the one just used to turn it on cannot be used again).
    await next.getByLabel('Code from your authenticator app').fill(totp(secret, Date.now() / 1000 + 30));
    await next.getByRole('button', { name: 'Continue' }).click();
    await next.waitForURL(/\/agency\/disputes$/);
    await next.getByTestId('queue').or(next.getByTestId('queue-empty')).waitFor();
    await context.close();
  }
});
