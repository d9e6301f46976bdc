// Twilio over real HTTP: messages go to a local fake Twilio through the adapter; replies and
// delivery reports come back signed (X-Twilio-Signature over the public URL Twilio saw,
// query string included, and the sorted form parameters). A bad signature is a 403 and
// changes nothing; a repeated reply changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { startServer } from './harness.mjs';

const TOKEN = 'e2e-twilio-token';
// What Twilio was told: the address of the TLS proxy in front of Settle, not Settle's own.
const PUBLIC = 'https://pay.example.test';
const CLOCK = '2026-12-01T18:00:00Z';

let server;
let fake;
const taken = [];

before(async () => {
  fake = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      taken.push(form);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sid: `SM${String(taken.length).padStart(32, '0')}`, status: 'queued' }));
    });
  });
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  server = await startServer({
    SETTLE_TWILIO_ACCOUNT_SID: 'ACe2e',
    SETTLE_TWILIO_AUTH_TOKEN: TOKEN,
    SETTLE_TWILIO_API_URL: `http://127.0.0.1:${fake.address().port}`,
    SETTLE_SMS_FROM: '+15005550006',
    SETTLE_SMS_PER_SECOND: '0',
    SETTLE_PUBLIC_URL: PUBLIC,
    SETTLE_CLOCK_START: CLOCK,
    SETTLE_MESSAGING_INTERVAL_SECS: '1',
  });
});

after(async () => {
  await server?.stop();
  fake?.close();
});

function sign(url, params, token = TOKEN) {
  const data = Object.keys(params).sort().reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', token).update(data).digest('base64');
}

const post = (path, params, signature) =>
  fetch(`${server.base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature ? { 'x-twilio-signature': signature } : {}),
    },
    body: new URLSearchParams(params).toString(),
  });

const count = (query) => Number(server.sql(query)[0]);

async function until(what, check, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('reminders reach the fake Twilio once each, with a status callback on the public address', async () => {
  await until('messages at the fake', () => taken.length > 0 && count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") === 0);
  const sent = count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'");
  assert.equal(taken.length, sent);
  assert.equal(new Set(taken.map((m) => m.Body)).size, taken.length);
  assert.equal(taken[0].From, '+15005550006');
  assert.match(taken[0].StatusCallback, new RegExp(`^${PUBLIC}/webhooks/twilio/status\\?outbox=\\d+$`));
  assert.match(taken[0].Body, new RegExp(`${PUBLIC}/l/`));
});

test('a reply is refused without a good signature and applied once with one', async () => {
  const [id, phone] = server.sql(
    `SELECT a.id, a.phone FROM accounts a
       JOIN outbox o ON o.account_id = a.id AND o.status = 'sent'
     WHERE a.phone NOT IN (SELECT phone FROM accounts GROUP BY phone HAVING COUNT(*) > 1)
     ORDER BY a.account_ref LIMIT 1`,
  );
  const params = { MessageSid: 'SMe2ereply1', AccountSid: 'ACe2e', From: phone, To: '+15005550006', Body: 'STOP' };
  const path = '/webhooks/twilio/sms?source=e2e';
  const url = `${PUBLIC}${path}`;
  const good = sign(url, params);
  for (const [what, res] of [
    ['no signature', await post(path, params)],
    ['wrong token', await post(path, params, sign(url, params, 'other'))],
    ['signed without the query string', await post(path, params, sign(`${PUBLIC}/webhooks/twilio/sms`, params))],
    ['signed over Settle\'s own address', await post(path, params, sign(`${server.base}${path}`, params))],
    ['tampered parameter', await post(path, { ...params, Body: 'START' }, good)],
    ['garbage', await post(path, params, 'not base64!')],
  ]) {
    assert.equal(res.status, 403, what);
  }
  assert.equal(count('SELECT COUNT(*) FROM inbound_messages'), 0);

  const ok = await post(path, params, good);
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /<Response><\/Response>/);
  const again = await post(path, params, good);
  assert.equal(again.status, 200);
  assert.equal(count("SELECT COUNT(*) FROM inbound_messages WHERE provider_id = 'SMe2ereply1'"), 1);
  assert.equal(count(`SELECT COUNT(*) FROM channel_consents WHERE account_id = ${id} AND channel = 'sms' AND opted_out`), 1);
  await until('one confirmation at the fake', () =>
    taken.filter((m) => m.To === phone && /no more text messages/.test(m.Body)).length === 1);
});

test('delivery reports update the message; a bounce is kept; unknown or unsigned reports change nothing', async () => {
  const [sid, id] = server.sql("SELECT provider_id, id FROM outbox WHERE status = 'sent' ORDER BY id LIMIT 1");
  // Twilio calls back the URL it was given, Settle's outbox id included, and signs it.
  const path = `/webhooks/twilio/status?outbox=${id}`;
  const report = { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30006', To: '+16175550142' };
  assert.equal((await post(path, report)).status, 403);
  assert.equal((await post(path, report, sign(`${PUBLIC}/webhooks/twilio/status`, report))).status, 403);
  assert.equal(server.sql(`SELECT status FROM outbox WHERE id = ${id}`)[0], 'sent');
  const res = await post(path, report, sign(`${PUBLIC}${path}`, report));
  assert.equal(res.status, 204);
  assert.deepEqual(server.sql(`SELECT status, error FROM outbox WHERE id = ${id}`), ['failed', 'undelivered: 30006']);
  // A later "delivered" does not undo the bounce.
  const late = { ...report, MessageStatus: 'delivered' };
  assert.equal((await post(path, late, sign(`${PUBLIC}${path}`, late))).status, 204);
  assert.equal(server.sql(`SELECT status FROM outbox WHERE id = ${id}`)[0], 'failed');
  const bare = '/webhooks/twilio/status';
  const unknown = { ...report, MessageSid: 'SMunknown' };
  assert.equal((await post(bare, unknown, sign(`${PUBLIC}${bare}`, unknown))).status, 404);
  const missing = { MessageStatus: 'delivered' };
  assert.equal((await post(bare, missing, sign(`${PUBLIC}${bare}`, missing))).status, 422);
});
