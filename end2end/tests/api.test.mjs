// The agency API's compliance dry run, against the real server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.mjs';

let server;

before(async () => {
  server = await startServer();
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
