// Stripe's webhook over real HTTP: the signature is checked on the raw body (HMAC-SHA256,
// 5 minutes of tolerance); a bad delivery is a 400 and changes nothing; a good one applies
// once, and its repeat is a 200 that changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer } from './harness.mjs';

const SECRET = 'whsec_e2e';
let server;

before(async () => {
  server = await startServer({
    SETTLE_STRIPE_SECRET_KEY: 'sk_test_e2e',
    SETTLE_STRIPE_WEBHOOK_SECRET: SECRET,
    // Never reached by these events; nothing here may leave the machine.
    SETTLE_STRIPE_API_URL: 'http://127.0.0.1:9',
  });
});

after(async () => {
  await server?.stop();
});

function sign(payload, t = Math.floor(Date.now() / 1000), secret = SECRET) {
  const v1 = createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

function event(id, account, amount) {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    id, object: 'event', created: now, livemode: false, pending_webhooks: 1, type: 'payment_intent.succeeded',
    data: { object: {
      id: `pi_${id}`, object: 'payment_intent', amount, amount_capturable: 0, amount_received: amount,
      capture_method: 'automatic', confirmation_method: 'automatic', created: now, currency: 'usd',
      livemode: false, metadata: { account_id: String(account) }, payment_method_types: ['card'], status: 'succeeded',
    } },
  });
}

const post = (body, signature) =>
  fetch(`${server.base}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    body,
  });

const balance = (id) => Number(server.sql(`SELECT SUM(amount) FROM postings WHERE account_id = ${id}`)[0]);

test('bad deliveries are 400 and change nothing; a good one applies once', async () => {
  const [id] = server.sql("SELECT id FROM accounts WHERE account_ref = 'DEMO-1007'");
  const before = balance(id);
  const body = event('evt_e2e_1', id, 2500);
  const stale = Math.floor(Date.now() / 1000) - 301;
  for (const [what, res] of [
    ['no signature', await post(body)],
    ['wrong secret', await post(body, sign(body, undefined, 'whsec_other'))],
    ['too old', await post(body, sign(body, stale))],
    ['tampered body', await post(body.replace('2500', '250000'), sign(body))],
    ['not JSON', await post('{"id": ', sign('{"id": '))],
  ]) {
    assert.equal(res.status, 400, what);
  }
  assert.equal(balance(id), before);
  assert.equal(server.sql('SELECT COUNT(*) FROM processor_events')[0], '0');

  const ok = await post(body, sign(body));
  assert.equal(ok.status, 200);
  assert.equal(balance(id), before - 2500);
  const again = await post(body, sign(body));
  assert.equal(again.status, 200);
  assert.equal(await again.text(), 'Duplicate');
  assert.equal(balance(id), before - 2500);

  // An event for an account that does not exist is refused and records nothing.
  const stray = event('evt_e2e_2', 999999, 100);
  assert.equal((await post(stray, sign(stray))).status, 422);
  assert.equal(server.sql("SELECT COUNT(*) FROM processor_events WHERE event_id = 'evt_e2e_2'")[0], '0');
});
