// Telegram end to end, in webhook mode: a verified debtor presses "Use Telegram" in the
// portal, the t.me link it leads to (caught in the browser, never fetched) carries a
// single-use token, Telegram's update with `/start <token>` reaches the webhook with the
// secret header, and the bot answers through a local fake Bot API. The server process
// uses teloxide pointed at the fake.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { answer, axeCheck, launchBrowser, startServer } from './harness.mjs';

const SECRET = 'e2e-webhook-secret';
const CLOCK = '2026-12-01T18:00:00Z';
const CHAT = 55001;

let server;
let browser;
let fake;
const sent = [];

before(async () => {
  fake = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const method = req.url.split('/').pop().toLowerCase();
      const json = body ? JSON.parse(body) : {};
      let result = true;
      if (method === 'sendmessage') {
        sent.push(json);
        result = {
          message_id: sent.length,
          date: 1790000000,
          chat: { id: json.chat_id, type: 'private', first_name: 'Ana' },
          text: json.text,
        };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, result }));
    });
  });
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  server = await startServer({
    SETTLE_TELEGRAM_BOT_TOKEN: '4242:E2E',
    SETTLE_TELEGRAM_BOT_USERNAME: 'settle_e2e_bot',
    SETTLE_TELEGRAM_API_URL: `http://127.0.0.1:${fake.address().port}/`,
    SETTLE_TELEGRAM_WEBHOOK_SECRET: SECRET,
    SETTLE_CLOCK_START: CLOCK,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  fake?.close();
});

const update = (id, text) => ({
  update_id: id,
  message: {
    message_id: id,
    date: 1790000000,
    chat: { id: CHAT, type: 'private', first_name: 'Ana' },
    from: { id: CHAT, is_bot: false, first_name: 'Ana', language_code: 'en' },
    text,
  },
});

const hook = (body, secret = SECRET) =>
  fetch(`${server.base}/webhooks/telegram`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
    body: JSON.stringify(body),
  });

for (const js of [true, false]) {
  test(`"Use Telegram" binds the chat through the webhook (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const [ref, dob, zip] = server.sql(
      `SELECT account_ref, date_of_birth, postal_code FROM accounts WHERE language = 'en'
       AND id NOT IN (SELECT account_id FROM telegram_chats WHERE account_id IS NOT NULL)
       ORDER BY account_ref LIMIT 1`,
    );
    const context = await browser.newContext({ javaScriptEnabled: js, locale: 'en-US' });
    const page = await context.newPage();
    page.__nojs = !js;
    let tme;
    // The browser must never reach the internet: the t.me address is caught here.
    await context.route('https://t.me/**', (route) => {
      tme = route.request().url();
      route.fulfill({ status: 200, contentType: 'text/html', body: '<html lang="en"><title>t.me</title></html>' });
    });
    await page.goto(server.link(ref));
    await answer(page, dob, zip);
    await page.waitForURL(/\/account$/);
    await axeCheck(browser, page, 'account page with the Telegram offer');
    await page.getByTestId('telegram-connect').click();
    await page.waitForURL(/t\.me/);
    assert.match(tme, /^https:\/\/t\.me\/settle_e2e_bot\?start=[A-Za-z0-9_-]{43}$/);
    const token = new URL(tme).searchParams.get('start');
    await context.close();

    const id = js ? 9100 : 9200;
    assert.equal((await hook(update(id, `/start ${token}`), 'wrong')).status, 401);
    assert.equal((await hook(update(id, `/start ${token}`), null)).status, 401);
    const boundTo = () => server.sql(`SELECT a.account_ref FROM telegram_chats c JOIN accounts a ON a.id = c.account_id WHERE c.chat_id = ${CHAT}`)[0];
    assert.notEqual(boundTo(), ref, 'a refused update changes nothing');
    const before = sent.length;
    assert.equal((await hook(update(id, `/start ${token}`))).status, 200);
    assert.equal(boundTo(), ref);
    const answers = sent.slice(before);
    assert.ok(answers.some((m) => m.chat_id === CHAT && /Your account is connected/.test(m.text)), JSON.stringify(answers));
    // A second use of the same link is refused.
    assert.equal((await hook(update(id + 1, `/start ${token}`))).status, 200);
    assert.match(sent.at(-1).text, /already used/);
  });
}
