// The agency API against the real server: the compliance dry run, keys (none, wrong,
// revoked, wrong scope), placement, reads, and signed webhook deliveries to a local receiver.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { startServer } from './harness.mjs';

let server;

before(async () => {
  // The test's webhook receiver listens on loopback, which only this setting allows.
  server = await startServer({ SETTLE_WEBHOOK_INTERVAL_SECS: '1', SETTLE_WEBHOOK_PRIVATE_ADDRESSES: 'true' });
});

after(async () => {
  await server?.stop();
});

const post = (body) =>
  fetch(server.base + '/api/v1/compliance/check', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

test('an array of questions gets an array of answers, in order', async () => {
  const res = await post([
    {
      id: 'night', kind: 'contact', now: '2026-07-02T02:30:00Z', channel: 'sms', purpose: 'reminder',
      consumer: { phone: '+16175550123', state: 'MA', consented: ['sms'] },
    },
    { id: 'v1', kind: 'validation_period', sent_on: '2026-12-21' },
    { id: 'bad', kind: 'contact', now: 'soon', channel: 'sms', purpose: 'reminder' },
  ]);
  assert.equal(res.status, 200);
  const answers = await res.json();
  assert.equal(answers.length, 3);
  assert.deepEqual(answers[0], {
    id: 'night', decision: 'defer', reasons: ['quiet_hours'], citations: ['12 CFR 1006.6(b)(1)(i)'],
    next_allowed_at: '2026-07-02T12:00:00Z', required_content: [],
  });
  assert.deepEqual(answers[1], { id: 'v1', validation_end: '2027-01-28' });
  assert.equal(answers[2].id, 'bad');
  assert.equal(typeof answers[2].error, 'string');
});

test('a body that is not an array of questions is a 4xx', async () => {
  assert.equal((await post({ id: 'x' })).status, 400);
  const notJson = await post('{oops');
  assert.ok(notJson.status >= 400 && notJson.status < 500, String(notJson.status));
});

// ---- Keys, placement, reads and webhooks -------------------------------------------

const api = (path, key, init = {}) =>
  fetch(server.base + path, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(init.headers ?? {}),
    },
  });

const makeKey = (name, scopes) =>
  server.settle('api-keys', 'add', '--name', name, '--scopes', scopes).trim();

const count = (table) => Number(server.sql(`SELECT COUNT(*) FROM ${table}`)[0]);

const placement = (ref, over = {}) => ({
  account_ref: ref, creditor: 'Acme Medical', first_name: 'Ana', last_name: 'Pérez',
  date_of_birth: '1984-02-29', address_line1: '1 Main St', city: 'Boston', state: 'MA',
  postal_code: '02134', itemization_date: '2026-01-31', balance_at_itemization: '1000.00',
  interest_since: '12.50', fees_since: 0, payments_since: '100.00', credits_since: '0',
  current_balance: '912.50', phone: '(617) 555-0188', ...over,
});

test('the OpenAPI document describes every route and the bearer keys', async () => {
  const res = await fetch(server.base + '/api/v1/openapi.json');
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.match(doc.openapi, /^3\./);
  for (const path of ['/api/v1/accounts', '/api/v1/accounts/{id}', '/api/v1/accounts/{id}/ledger',
    '/api/v1/webhooks', '/api/v1/webhooks/{id}', '/api/v1/webhooks/{id}/deliveries', '/api/v1/compliance/check']) {
    assert.ok(doc.paths[path], path);
  }
  assert.equal(doc.components.securitySchemes.api_key.scheme, 'bearer');
  assert.deepEqual(doc.paths['/api/v1/accounts'].post.security, [{ api_key: ['accounts:write'] }]);
});

test('no key, a wrong key, a revoked key and a key without the scope are refused and change nothing', async () => {
  const reader = makeKey('reader', 'accounts:read');
  assert.match(reader, /^stl_[A-Za-z0-9]{32}$/);
  const accounts = count('accounts');
  const hooks = count('webhook_endpoints');

  const none = await api('/api/v1/accounts', null);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal(typeof (await none.json()).error, 'string');
  assert.equal((await api('/api/v1/accounts', 'stl_' + 'x'.repeat(32))).status, 401);
  assert.equal((await api('/api/v1/accounts', reader.slice(0, -1) + (reader.endsWith('a') ? 'b' : 'a'))).status, 401);
  assert.equal((await api('/api/v1/accounts', null, { headers: { authorization: reader } })).status, 401);

  // Read-only: reads work, writes are 403 whatever they carry.
  assert.equal((await api('/api/v1/accounts?limit=2', reader)).status, 200);
  const place = await api('/api/v1/accounts', reader, { method: 'POST', body: JSON.stringify({ accounts: [placement('RO-1')] }) });
  assert.equal(place.status, 403);
  assert.match((await place.json()).error, /accounts:write/);
  const hook = await api('/api/v1/webhooks', reader, { method: 'POST', body: JSON.stringify({ url: 'http://127.0.0.1:9/', events: ['payment.received'] }) });
  assert.equal(hook.status, 403);
  assert.equal((await api('/api/v1/webhooks/1', reader, { method: 'DELETE' })).status, 403);
  assert.equal(count('accounts'), accounts);
  assert.equal(count('webhook_endpoints'), hooks);

  // Revoked: refused at once.
  const id = server.settle('api-keys', 'list').split('\n').find((l) => l.includes('\treader\t')).split('\t')[0];
  server.settle('api-keys', 'revoke', '--id', id);
  assert.equal((await api('/api/v1/accounts', reader)).status, 401);
  assert.match(server.settle('api-keys', 'list'), /\treader\taccounts:read\trevoked /);
});

test('placing accounts checks each like a file row; the account and its ledger read back', async () => {
  const key = makeKey('billing', 'accounts:read,accounts:write');
  const res = await api('/api/v1/accounts', key, {
    method: 'POST',
    body: JSON.stringify({ accounts: [placement('API-1'), placement('API-2', { current_balance: '99.00' }), placement('API-3', { extra: 'x' })] }),
  });
  assert.equal(res.status, 200);
  const placed = await res.json();
  assert.equal(placed.received, 3);
  assert.equal(placed.imported, 2);
  assert.equal(placed.rejected, 1);
  assert.equal(placed.errors[0].index, 1);
  assert.equal(placed.errors[0].account_ref, 'API-2');
  assert.match(placed.errors[0].reason, /current_balance/);
  assert.deepEqual(placed.ignored_fields, ['extra']);

  // Each account stands alone: a line break, a name given twice in two spellings, or an
  // empty account refuse that account only, at its own index.
  const edge = await (await api('/api/v1/accounts', key, {
    method: 'POST',
    body: JSON.stringify({
      accounts: [
        placement('API-4', { last_name: 'Two\nLines' }),
        { ...placement('API-5'), ' Account_Ref ': 'API-5b' },
        {},
        { account_ref: '', creditor: null },
        placement('API-6'),
        { ...placement('API-7'), 'bad\nname': 'x' },
        placement('API-8', { current_balance: '1.00' }),
      ],
    }),
  })).json();
  assert.equal(edge.imported, 1, JSON.stringify(edge));
  assert.deepEqual(edge.errors.map((e) => e.index), [0, 1, 2, 3, 5, 6]);
  assert.match(edge.errors[4].reason, /field name contains/);
  assert.equal(edge.errors[5].account_ref, 'API-8');
  assert.match(edge.errors[0].reason, /line break/);
  assert.match(edge.errors[1].reason, /account_ref is given twice/);
  assert.match(edge.errors[2].reason, /no fields/);
  assert.equal((await (await api('/api/v1/accounts?reference=API-6', key)).json()).accounts.length, 1);
  // The scheme name is not case-sensitive (RFC 7235).
  assert.equal((await api('/api/v1/accounts?limit=1', null, { headers: { authorization: `bearer ${key}` } })).status, 200);

  const again = await (await api('/api/v1/accounts', key, { method: 'POST', body: JSON.stringify({ accounts: [placement('API-1')] }) })).json();
  assert.equal(again.unchanged, 1);
  assert.equal((await api('/api/v1/accounts', key, { method: 'POST', body: '{"accounts": 5}' })).status, 400);

  const found = await (await api('/api/v1/accounts?reference=API-1', key)).json();
  assert.equal(found.accounts.length, 1);
  const account = found.accounts[0];
  assert.equal(account.balance, 91250);
  assert.equal(account.itemization.interest_since, 1250);
  assert.equal(account.currency, 'USD');
  const one = await (await api(`/api/v1/accounts/${account.id}`, key)).json();
  assert.deepEqual(one, account);
  const ledger = await (await api(`/api/v1/accounts/${account.id}/ledger`, key)).json();
  assert.equal(ledger.balance, 91250);
  assert.deepEqual(ledger.postings.map((p) => [p.kind, p.amount]), [['placement', 91250]]);
  assert.equal((await api('/api/v1/accounts/999999999', key)).status, 404);
  assert.equal((await api('/api/v1/accounts/nope', key)).status, 400);
  assert.deepEqual((await (await api('/api/v1/accounts?reference=NOPE-9', key)).json()).accounts, []);
  assert.equal((await api('/api/v1/accounts?limit=0', key)).status, 400);
});

test('an opt-out reaches a webhook signed with its secret; a failed delivery is recorded for retry', async () => {
  const got = [];
  let answer = 500;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(answer).end();
      answer = 200;
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${receiver.address().port}/settle`;
    // Events carry account data: a key that cannot read accounts cannot have them sent.
    const hooksOnly = makeKey('hooks-only', 'webhooks');
    const refused = await api('/api/v1/webhooks', hooksOnly, { method: 'POST', body: JSON.stringify({ url, events: ['consent.opted_out'] }) });
    assert.equal(refused.status, 403);
    assert.match((await refused.json()).error, /accounts:read/);
    const key = makeKey('hooks', 'webhooks,accounts:read');
    assert.equal((await api('/api/v1/webhooks', key, { method: 'POST', body: JSON.stringify({ url, events: ['nope'] }) })).status, 400);
    assert.equal((await api('/api/v1/webhooks', key, { method: 'POST', body: JSON.stringify({ url: 'file:///etc/passwd', events: ['consent.opted_out'] }) })).status, 400);
    const made = await api('/api/v1/webhooks', key, {
      method: 'POST', body: JSON.stringify({ url, events: ['consent.opted_out', 'consent.opted_in'] }),
    });
    assert.equal(made.status, 201);
    const { endpoint, secret } = await made.json();
    const listed = await (await api('/api/v1/webhooks', key)).json();
    assert.ok(listed.webhooks.some((w) => w.id === endpoint.id && w.url === url));
    assert.ok(!JSON.stringify(listed).includes(secret));

    const phone = server.sql(`SELECT phone FROM accounts WHERE account_ref = 'DEMO-1002'`)[0];
    const reply = (body) => fetch(server.base + '/demo/phone', {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.base },
      body: new URLSearchParams({ from: phone, body }),
    });
    assert.equal((await reply('STOP')).status, 303);
    const waitFor = async (n) => {
      const deadline = Date.now() + 15_000;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} deliveries`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor(1);
    const first = got[0];
    const [t, v1] = first.headers['settle-signature'].split(',').map((p) => p.split('=')[1]);
    const expected = crypto.createHmac('sha256', secret).update(`${t}.${first.body}`).digest('hex');
    assert.equal(v1, expected);
    const event = JSON.parse(first.body);
    assert.equal(event.type, 'consent.opted_out');
    assert.equal(event.data.account_ref, 'DEMO-1002');
    assert.equal(event.data.detail, 'sms');
    assert.equal(String(event.id), first.headers['settle-event-id']);

    // The receiver answered 500: recorded, to be retried with backoff.
    const deliveries = async () => (await (await api(`/api/v1/webhooks/${endpoint.id}/deliveries`, key)).json()).deliveries;
    let d = await deliveries();
    while (d[0]?.last_status !== 500) d = await deliveries();
    assert.equal(d[0].attempts, 1);
    assert.equal(d[0].delivered_at, null);

    // Opting back in is the next event; this time the receiver says 200.
    assert.equal((await reply('START')).status, 303);
    await waitFor(2);
    assert.equal(JSON.parse(got[1].body).type, 'consent.opted_in');
    d = await deliveries();
    while (!d[0]?.delivered_at) d = await deliveries();
    assert.equal(d[0].last_status, 200);

    // Removed: nothing more is sent, and it is gone from the active list.
    assert.equal((await api(`/api/v1/webhooks/${endpoint.id}`, key, { method: 'DELETE' })).status, 204);
    assert.equal((await api(`/api/v1/webhooks/${endpoint.id}`, key, { method: 'DELETE' })).status, 404);
  } finally {
    receiver.close();
  }
});

test('/metrics counts requests by kind, the decisions made, and the shared queues', async () => {
  // Runs after the opt-out test: its STOP was answered, so this process made a decision.
  const res = await fetch(`${server.base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /openmetrics-text/);
  const text = await res.text();
  assert.match(text, /^settle_http_requests_total\{class="api",method="POST",status="200"\} [1-9]/m);
  assert.match(text, /^settle_http_requests_total\{class="api",method="GET",status="401"\} [1-9]/m);
  assert.match(text, /^settle_http_request_duration_seconds_count\{class="api"\} [1-9]/m);
  assert.match(text, /^settle_compliance_decisions_total\{verdict="allow"\} [1-9]/m);
  assert.match(text, /^settle_outbox_messages\{status="pending"\} \d+$/m);
  assert.match(text, /^settle_webhook_deliveries_due \d+$/m);
  assert.match(text, /^settle_webhook_lag_seconds \d+$/m);
  assert.match(text, /# EOF\n$/);
});

test('without the private-addresses setting, a webhook to loopback or a private network is refused', async () => {
  const strict = await startServer();
  try {
    const key = strict.settle('api-keys', 'add', '--name', 'hooks', '--scopes', 'webhooks,accounts:read').trim();
    for (const url of ['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/hook', 'http://10.0.0.7/hook']) {
      const res = await fetch(`${strict.base}/api/v1/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ url, events: ['payment.received'] }),
      });
      assert.equal(res.status, 400, url);
      assert.match((await res.json()).error, /not a public address/);
    }
    assert.equal(strict.sql('SELECT COUNT(*) FROM webhook_endpoints')[0], '0');
  } finally {
    await strict.stop();
  }
});
