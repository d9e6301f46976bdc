// Payments with the demo processor, JavaScript on and off: pay in full and see the receipt,
// set up a plan (every date and amount shown, authorization required), save a card, change
// the next payment's date; a receipt of another account stays hidden.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { answer, axeCheck, launchBrowser, startServer } from './harness.mjs';

let server;
let browser;
let refs;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // English-speaking accounts in dollars that owe more than $200, none disputed.
  refs = server
    .sql(`SELECT group_concat(account_ref, ',') FROM (SELECT a.account_ref FROM accounts a
          WHERE a.language = 'en' AND a.currency = 'USD'
            AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.account_id = a.id)
            AND (SELECT SUM(amount) FROM postings p WHERE p.account_id = a.id) > 20000
          ORDER BY a.account_ref LIMIT 4)`)[0]
    .split(',');
  assert.equal(refs.length, 4);
});

after(async () => {
  await browser?.close();
  await server?.stop();
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

const balanceOf = (ref) =>
  Number(server.sql(`SELECT SUM(p.amount) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.account_ref = '${ref}'`)[0]);

for (const js of [true, false]) {
  test(`pay in full with the demo processor and see the receipt, JavaScript ${js ? 'on' : 'off'}`, async () => {
    const ref = js ? refs[0] : refs[2];
    const page = await signIn(js, ref);
    await page.getByTestId('pay-link').click();
    await page.waitForURL(/\/pay$/);
    await axeCheck(browser, page, 'pay');
    const balance = await page.getByTestId('balance').textContent();
    // A part payment below the minimum is refused before any processor is involved.
    await page.getByLabel(/Amount \(at least/).fill('1.00');
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await page.getByTestId('flash').waitFor();
    assert.match(await page.getByTestId('flash').textContent(), /Enter an amount/);

    await page.getByRole('button', { name: `Pay ${balance}` }).click();
    await page.waitForURL(/\/demo-checkout\/demo_cs_/);
    await page.getByTestId('demo-banner').waitFor();
    await axeCheck(browser, page, 'demo checkout');
    await page.getByLabel('Card number').fill('4000 0000 0000 9999');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByTestId('flash').waitFor();
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.waitForURL(/\/receipt\/\d+$/);
    await page.getByTestId('receipt').waitFor();
    assert.equal(await page.getByTestId('receipt-status').textContent(), 'Paid');
    assert.equal(await page.getByTestId('receipt-amount').textContent(), balance);
    assert.equal(await page.getByTestId('balance').textContent(), '$0.00');
    assert.equal(balanceOf(ref), 0);
    await axeCheck(browser, page, 'receipt');

    // Going back to the checkout page does not charge again: it shows the receipt.
    const receipt = page.url();
    await page.goBack();
    await page.waitForURL(/\/receipt\/\d+$/);
    assert.equal(balanceOf(ref), 0);
    assert.equal(page.url(), receipt);

    await page.goto(server.base + '/pay');
    await page.getByTestId('nothing-owed').waitFor();
    assert.deepEqual(page.__errors, []);
    await page.context().close();
  });

  test(`set up a plan, save a card, change the next date and the amount, JavaScript ${js ? 'on' : 'off'}`, async () => {
    const ref = js ? refs[1] : refs[3];
    const page = await signIn(js, ref);
    await page.goto(server.base + '/plan');
    await page.getByLabel('How often').selectOption('monthly');
    await page.getByLabel(/Number of payments/).fill('3');
    await page.getByRole('button', { name: 'Show every date and amount' }).click();
    await page.getByTestId('schedule').waitFor();
    assert.equal(await page.locator('[data-testid=schedule] tbody tr').count(), 3);
    assert.match(await page.getByTestId('authorization-text').textContent(), /I authorize .* to debit/);
    await axeCheck(browser, page, 'plan preview');

    // Without the authorization box ticked, nothing is set up.
    await page.getByRole('button', { name: 'Authorize and save a payment method' }).click();
    await page.getByTestId('flash').waitFor();
    assert.match(await page.getByTestId('flash').textContent(), /authorize the payments/);
    await page.getByLabel('I authorize these payments').check();
    await page.getByRole('button', { name: 'Authorize and save a payment method' }).click();
    await page.waitForURL(/\/demo-checkout\/demo_cs_/);
    await page.getByLabel('Card number').fill('4242424242424242');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.waitForURL(/\/plan\?saved=1$/);
    assert.match(await page.getByTestId('plan-status').textContent(), /active/);
    assert.match(await page.getByTestId('authorization').textContent(), /I authorize/);
    await axeCheck(browser, page, 'plan');

    // Move the next payment to the latest day allowed.
    const latest = await page.getByLabel(/New date for your next payment/).getAttribute('max');
    await page.getByLabel(/New date for your next payment/).fill(latest);
    await page.getByRole('button', { name: 'Change the date' }).click();
    await page.getByTestId('flash').waitFor();
    assert.match(await page.getByTestId('flash').textContent(), /date of your next payment is changed/);
    const [due] = server.sql(`SELECT i.due_on FROM plan_instalments i JOIN plans p ON p.id = i.plan_id
      JOIN accounts a ON a.id = p.account_id WHERE a.account_ref = '${ref}' AND p.status = 'active' AND i.seq = 1`);
    assert.equal(due, latest);

    // A new amount for the remaining payments: re-cut, authorized, listed.
    const each = Math.floor(balanceOf(ref) / 200) * 100;
    await page.getByLabel(/New amount for each remaining payment/).fill(`${each / 100}.00`);
    await page.getByLabel('I authorize this amount for each remaining payment').check();
    await page.getByRole('button', { name: 'Change the amount' }).click();
    await page.getByTestId('flash').filter({ hasText: /remaining payments are changed/ }).waitFor();
    const amounts = server.sql(`SELECT group_concat(i.amount, ',') FROM plan_instalments i JOIN plans p ON p.id = i.plan_id
      JOIN accounts a ON a.id = p.account_id WHERE a.account_ref = '${ref}' AND p.status = 'active' AND i.status = 'scheduled'`)[0]
      .split(',').map(Number);
    assert.ok(amounts.length >= 2);
    assert.ok(amounts.slice(0, -1).every((a) => a === each), amounts.join(','));
    assert.equal(amounts.reduce((x, y) => x + y, 0), balanceOf(ref));
    assert.match(await page.getByTestId('authorization').textContent(), /authorized \$[\d,]+\.00 for each remaining payment/);

    // The link a failed-payment message leads to: save a different card, the plan goes on.
    await page.getByTestId('replace-card').click();
    await page.waitForURL(/\/demo-checkout\/demo_cs_/);
    await page.getByLabel('Card number').fill('4242424242424242');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.waitForURL(/\/plan\?saved=1$/);
    assert.match(await page.getByTestId('plan-status').textContent(), /active/);

    // The account page shows the plan and its next payment.
    await page.goto(server.base + '/account');
    assert.match(await page.getByTestId('plan-summary').textContent(), new RegExp(`active.*${latest}`));
    assert.deepEqual(page.__errors, []);
    await page.context().close();
  });
}

test("a receipt of another account's payment stays hidden", async () => {
  const [other] = server.sql(`SELECT MIN(id) FROM payments`);
  assert.ok(Number(other) > 0, 'a payment exists from the earlier tests');
  const [owner] = server.sql(`SELECT a.account_ref FROM payments p JOIN accounts a ON a.id = p.account_id WHERE p.id = ${other}`);
  const stranger = refs.find((r) => r !== owner && r !== refs[0] && r !== refs[2]) ?? refs[1];
  const page = await signIn(false, stranger === owner ? refs[3] : stranger);
  await page.goto(`${server.base}/receipt/${other}`);
  await page.getByText('There is no such receipt for your account.').waitFor();
  assert.equal(await page.getByTestId('receipt').count(), 0);
  await page.context().close();
});
