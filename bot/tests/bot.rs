//! The bot against a local fake of the Telegram Bot API (teloxide pointed at it with
//! `set_api_url`; paths are `/bot<token>/<Method>`) and a real SQLite file: the fake feeds
//! updates and records every message the bot sends.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use accounts::messaging::{LinkSettings, RunOptions, SenderOptions};
use accounts::telegram::TelegramToken;
use accounts::{Accounts, FixedClock};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Duration, TimeZone, Utc};
use domain::{AccountId, AccountRef};
use secrecy::SecretString;
use serde_json::{json, Value};
use settle_bot::SettleBot;
use teloxide::types::Update;

const HEADER: &str = "account_ref,creditor,first_name,last_name,date_of_birth,phone,email,address_line1,city,state,postal_code,itemization_date,balance_at_itemization,interest_since,fees_since,payments_since,credits_since,current_balance,time_zone,language,sms_consent";
const ROW: &str = "TG-1,Acme Medical,Ana,Pérez,1984-02-29,(617) 555-0142,ana@example.com,1 Main St,Boston,MA,02134,2026-01-31,1000.00,12.50,0,100.00,0,912.50,America/New_York,en,yes";
const CHAT: i64 = 7001;

/// What the fake Bot API saw and what it answers.
#[derive(Default)]
struct Fake {
    sent: Mutex<Vec<(i64, String, Option<Value>)>>,
    updates: Mutex<Vec<Value>>,
    offsets: Mutex<Vec<i64>>,
    blocked: Mutex<HashSet<i64>>,
    callbacks_answered: Mutex<u32>,
}

async fn api(
    State(fake): State<Arc<Fake>>,
    Path((bot, method)): Path<(String, String)>,
    body: Bytes,
) -> axum::response::Response {
    assert_eq!(bot, "bot123:TEST", "the token is in the path");
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ok = |result: Value| Json(json!({ "ok": true, "result": result })).into_response();
    // Bot API method names are case-insensitive; teloxide writes them capitalized.
    match method.to_ascii_lowercase().as_str() {
        "sendmessage" => {
            let chat = body["chat_id"].as_i64().expect("numeric chat id");
            if fake.blocked.lock().unwrap().contains(&chat) {
                return (
                    StatusCode::FORBIDDEN,
                    Json(json!({"ok": false, "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user"})),
                )
                    .into_response();
            }
            let text = body["text"].as_str().unwrap_or_default().to_string();
            let markup = body.get("reply_markup").cloned();
            let mut sent = fake.sent.lock().unwrap();
            sent.push((chat, text.clone(), markup));
            ok(json!({
                "message_id": sent.len(), "date": 1_790_000_000,
                "chat": {"id": chat, "type": "private", "first_name": "Ana"},
                "text": text,
            }))
        }
        "answercallbackquery" => {
            *fake.callbacks_answered.lock().unwrap() += 1;
            ok(json!(true))
        }
        "getupdates" => {
            let offset = body["offset"].as_i64().unwrap_or(0);
            fake.offsets.lock().unwrap().push(offset);
            let updates: Vec<Value> = fake
                .updates
                .lock()
                .unwrap()
                .iter()
                .filter(|u| u["update_id"].as_i64().unwrap() >= offset)
                .cloned()
                .collect();
            ok(Value::Array(updates))
        }
        other => panic!("the bot called an unexpected method {other}"),
    }
}

/// An update as Telegram sends it. Read from text, as the webhook does: teloxide's
/// flattened update kinds do not deserialize from a `serde_json::Value`.
fn parse(update: Value) -> Update {
    let update: Update = serde_json::from_str(&update.to_string()).unwrap();
    assert!(
        !matches!(update.kind, teloxide::types::UpdateKind::Error(_)),
        "{update:?}"
    );
    update
}

struct World {
    _dir: tempfile::TempDir,
    accounts: Accounts,
    clock: Arc<FixedClock>,
    fake: Arc<Fake>,
    bot: SettleBot,
    account: AccountId,
    next_update: std::sync::atomic::AtomicI64,
}

fn links() -> LinkSettings {
    LinkSettings {
        public_url: "https://pay.test".into(),
        ttl: Duration::days(30),
        telegram_bot: None,
    }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("settle.db").display());
    // A Tuesday, 10:00 in Boston: inside contact hours.
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap(),
    ));
    let accounts = Accounts::open(&url, clock.clone()).await.unwrap();
    let agency = accounts
        .ensure_agency("acme", "Acme Recovery")
        .await
        .unwrap()
        .id;
    let mut errors = Vec::new();
    let report = accounts
        .import_placements(
            agency,
            "test.csv",
            std::io::Cursor::new(format!("{HEADER}\n{ROW}\n").into_bytes()),
            |e| errors.push(e.clone()),
        )
        .await
        .unwrap();
    assert!(errors.is_empty() && report.imported == 1, "{errors:?}");
    let account = accounts
        .account_by_ref(agency, &AccountRef::parse("TG-1").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;

    let fake = Arc::new(Fake::default());
    let app = Router::new()
        .route("/{bot}/{method}", post(api))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let api_url = format!("http://{addr}/").parse().unwrap();
    let sender = SenderOptions {
        worker: "test".into(),
        batch: 50,
        concurrency: 2,
        lease: Duration::minutes(2),
        max_attempts: 3,
        from: String::new(),
        status_callback: None,
        per_second: None,
    };
    let bot = SettleBot::new(
        teloxide::Bot::new("123:TEST").set_api_url(api_url),
        accounts.clone(),
        links(),
        sender,
        "settle_test_bot",
    );
    World {
        _dir: dir,
        accounts,
        clock,
        fake,
        bot,
        account,
        next_update: std::sync::atomic::AtomicI64::new(100),
    }
}

impl World {
    fn update_id(&self) -> i64 {
        self.next_update
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    fn text_update(&self, chat: i64, text: &str) -> Value {
        let id = self.update_id();
        json!({
            "update_id": id,
            "message": {
                "message_id": id, "date": 1_790_000_000,
                "chat": {"id": chat, "type": "private", "first_name": "Ana"},
                "from": {"id": chat, "is_bot": false, "first_name": "Ana", "language_code": "en"},
                "text": text,
            }
        })
    }

    async fn say(&self, chat: i64, text: &str) {
        self.bot
            .handle(parse(self.text_update(chat, text)))
            .await
            .unwrap();
    }

    async fn press(&self, chat: i64, data: &str) {
        let id = self.update_id();
        let update = parse(json!({
            "update_id": id,
            "callback_query": {
                "id": format!("q{id}"), "chat_instance": "ci", "data": data,
                "from": {"id": chat, "is_bot": false, "first_name": "Ana"},
                "message": {
                    "message_id": 1, "date": 1_790_000_000,
                    "chat": {"id": chat, "type": "private", "first_name": "Ana"},
                    "text": "menu",
                },
            }
        }));
        self.bot.handle(update).await.unwrap();
    }

    /// Texts sent to `chat` since the last call.
    fn take(&self, chat: i64) -> Vec<String> {
        let mut sent = self.fake.sent.lock().unwrap();
        let (mine, rest): (Vec<_>, Vec<_>) = sent.drain(..).partition(|(c, _, _)| *c == chat);
        *sent = rest;
        mine.into_iter().map(|(_, t, _)| t).collect()
    }

    async fn bind(&self, chat: i64) {
        let token = self
            .accounts
            .create_telegram_link(self.account)
            .await
            .unwrap();
        self.say(chat, &format!("/start {}", token.expose())).await;
        let said = self.take(chat);
        assert!(
            said.iter().any(|t| t.contains("Your account is connected")),
            "{said:?} {:?} {:?}",
            self.accounts.account_outbox(self.account).await.unwrap(),
            self.accounts.decision_log(self.account, 5).await.unwrap()
        );
    }

    async fn run_and_send(&self) {
        self.accounts
            .run_schedule(&RunOptions {
                batch: 50,
                links: links(),
            })
            .await
            .unwrap();
        self.bot.flush().await.unwrap();
    }
}

#[tokio::test]
async fn a_link_binds_one_chat_once_and_refuses_used_expired_and_forged_links() {
    let w = world().await;
    let token = w.accounts.create_telegram_link(w.account).await.unwrap();
    let link = settle_bot::deep_link("@settle_test_bot", &token);
    assert!(link.starts_with("https://t.me/settle_test_bot?start="));
    let payload = link.split("start=").nth(1).unwrap();
    assert!(payload.len() <= 64);
    assert!(payload
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

    w.say(CHAT, &format!("/start {payload}")).await;
    let said = w.take(CHAT);
    assert!(said[0].contains("Your account is connected"), "{said:?}");
    let chat = w.accounts.telegram_chat(CHAT).await.unwrap().unwrap();
    assert_eq!(chat.account, Some(w.account));
    assert!(!chat.verified, "binding is not an identity check");

    // Used: another chat cannot take the same link.
    w.say(8002, &format!("/start {payload}")).await;
    assert!(w.take(8002)[0].contains("already used"));
    assert_eq!(w.accounts.telegram_chat(8002).await.unwrap(), None);

    // Expired: a day later a fresh link no longer works.
    let late = w.accounts.create_telegram_link(w.account).await.unwrap();
    w.clock.set(w.clock_now() + Duration::hours(25));
    w.say(8003, &format!("/start {}", late.expose())).await;
    assert!(w.take(8003)[0].contains("expired"));

    // Forged: a well-shaped random token, and garbage.
    let forged = "A".repeat(43);
    assert!(TelegramToken::parse(&forged).is_some());
    w.say(8004, &format!("/start {forged}")).await;
    w.say(8004, "/start <script>").await;
    let said = w.take(8004);
    assert!(said.iter().all(|t| t.contains("not valid")), "{said:?}");
    assert_eq!(w.accounts.telegram_chat(8004).await.unwrap(), None);

    // `/start` alone explains how to get a link; other commands say nothing about a debt.
    w.say(8005, "/start").await;
    w.say(8005, "/balance").await;
    for text in w.take(8005) {
        assert!(text.contains("secure link"), "{text}");
        assert!(!text.contains("912"), "{text}");
    }
}

impl World {
    fn clock_now(&self) -> chrono::DateTime<Utc> {
        use accounts::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn the_balance_shows_only_after_the_identity_check_in_the_chat() {
    let w = world().await;
    w.bind(CHAT).await;

    w.say(CHAT, "/balance").await;
    let said = w.take(CHAT);
    assert!(said[0].contains("date of birth and ZIP code"), "{said:?}");
    assert!(said.iter().all(|t| !t.contains("912.50")));

    w.say(CHAT, "1990-01-01 02134").await;
    let said = w.take(CHAT);
    assert!(said[0].contains("does not match"), "{said:?}");
    assert!(said[0].contains('4'), "four tries left: {said:?}");
    assert!(said.iter().all(|t| !t.contains("912.50")));

    w.say(CHAT, "1984-02-29 02134").await;
    let said = w.take(CHAT).join("\n");
    assert!(said.contains("you are verified"), "{said}");
    assert!(said.contains("Balance now: $912.50"), "{said}");
    assert!(
        said.contains("Acme Medical") && said.contains("TG-1"),
        "{said}"
    );
    assert!(said.contains("interest since: +$12.50"), "{said}");
    assert!(said.contains("payments since: -$100.00"), "{said}");

    // Verified once: the button shows it again without asking.
    w.press(CHAT, "menu:balance").await;
    assert!(w.take(CHAT).join("\n").contains("$912.50"));
    assert_eq!(*w.fake.callbacks_answered.lock().unwrap(), 1);

    // The identity answer is never stored; the agency sees the commands.
    let inbox = w.accounts.inbox(false, 50).await.unwrap();
    assert!(inbox.iter().all(|m| !m.body.contains("1984-02-29")));
    assert!(inbox.iter().any(|m| m.body == "[identity check answer]"));

    // Every answer was a logged decision and an outbox row on Telegram.
    let rows = w.accounts.account_outbox(w.account).await.unwrap();
    assert!(rows.iter().all(|r| r.channel == "telegram"));
    assert!(rows.len() >= 5, "{rows:?}");
}

#[tokio::test]
async fn a_new_binding_must_pass_the_check_again_and_locks_after_five_misses() {
    let w = world().await;
    w.bind(CHAT).await;
    w.say(CHAT, "/plan").await;
    for _ in 0..5 {
        w.say(CHAT, "1990-01-01 02134").await;
    }
    let said = w.take(CHAT).join("\n");
    assert!(said.contains("Too many wrong answers"), "{said}");
    // Locked: even the right answer is refused now.
    w.say(CHAT, "/plan").await;
    w.say(CHAT, "1984-02-29 02134").await;
    let said = w.take(CHAT).join("\n");
    assert!(said.contains("Too many wrong answers"), "{said}");
    assert!(!said.contains("payment plan"), "{said}");
}

#[tokio::test]
async fn stop_confirms_once_and_the_next_reminder_run_sends_nothing_on_telegram() {
    let w = world().await;
    w.bind(CHAT).await;
    // Bound and consented: the first reminder goes to the chat, not the phone.
    w.run_and_send().await;
    let said = w.take(CHAT);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("https://pay.test/l/"), "{said:?}");

    w.say(CHAT, "/stop").await;
    let said = w.take(CHAT);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("not get more messages"), "{said:?}");

    w.clock.set(w.clock_now() + Duration::days(4));
    w.run_and_send().await;
    assert!(
        w.take(CHAT).is_empty(),
        "nothing more on Telegram after /stop"
    );
    let rows = w.accounts.account_outbox(w.account).await.unwrap();
    let last = rows.iter().max_by_key(|r| r.id).unwrap();
    assert_eq!(
        last.channel, "sms",
        "the reminder went to the phone instead"
    );

    // `/start` opts back in.
    w.say(CHAT, "/start").await;
    assert!(w.take(CHAT)[0].contains("again"));
}

#[tokio::test]
async fn a_blocked_bot_marks_the_chat_and_queues_nothing_more_for_it() {
    let w = world().await;
    w.bind(CHAT).await;
    w.fake.blocked.lock().unwrap().insert(CHAT);
    w.run_and_send().await;
    let chat = w.accounts.telegram_chat(CHAT).await.unwrap().unwrap();
    assert!(chat.blocked);
    let rows = w.accounts.account_outbox(w.account).await.unwrap();
    let failed = rows.iter().rev().find(|r| r.channel == "telegram").unwrap();
    assert!(
        failed.error.as_deref().unwrap_or("").contains("blocked"),
        "{failed:?}"
    );

    w.clock.set(w.clock_now() + Duration::days(4));
    w.run_and_send().await;
    let rows = w.accounts.account_outbox(w.account).await.unwrap();
    let last = rows.iter().max_by_key(|r| r.id).unwrap();
    assert_eq!(last.channel, "sms", "{rows:?}");
}

#[tokio::test]
async fn disputes_and_language_from_buttons() {
    let w = world().await;
    w.bind(CHAT).await;
    w.say(CHAT, "/dispute").await;
    let sent = w.fake.sent.lock().unwrap().clone();
    let keyboard = sent.last().unwrap().2.clone().unwrap().to_string();
    assert!(keyboard.contains("dispute:not_my_debt"), "{keyboard}");
    w.take(CHAT);
    w.press(CHAT, "dispute:not_my_debt").await;
    let said = w.take(CHAT).join("\n");
    assert!(said.contains("Your dispute is recorded"), "{said}");
    assert!(said.contains("https://pay.test/l/"), "{said}");
    assert_eq!(w.accounts.open_disputes(w.account).await.unwrap(), 1);

    w.press(CHAT, "lang:es").await;
    assert!(w.take(CHAT)[0].contains("español"));
    w.say(CHAT, "/help").await;
    let said = w.take(CHAT).join("\n");
    assert!(said.contains("/balance"), "{said}");
    assert!(said.contains("Para comunicarse"), "{said}");
}

#[tokio::test]
async fn polling_resumes_after_the_last_handled_update_and_repeats_nothing() {
    let w = world().await;
    let token = w.accounts.create_telegram_link(w.account).await.unwrap();
    let first = w.text_update(CHAT, &format!("/start {}", token.expose()));
    let second = w.text_update(CHAT, "/help");
    // A stranger who blocked the bot right after writing: the refused answer must not
    // make the update fail, or polling would ask for it again forever.
    w.fake.blocked.lock().unwrap().insert(9009);
    let stranger = w.text_update(9009, "hello");
    w.fake
        .updates
        .lock()
        .unwrap()
        .extend([first.clone(), second, stranger]);
    assert_eq!(w.bot.poll_once(0).await.unwrap(), 3);
    assert_eq!(w.take(CHAT).len(), 2);
    // The fake keeps returning everything from the offset asked: the bot asks past both.
    assert_eq!(w.bot.poll_once(0).await.unwrap(), 0);
    let offsets = w.fake.offsets.lock().unwrap().clone();
    assert_eq!(offsets, vec![0, first["update_id"].as_i64().unwrap() + 3]);
    // The same update delivered again (a webhook retry) does nothing.
    w.bot.handle(parse(first)).await.unwrap();
    assert!(w.take(CHAT).is_empty());
}

#[tokio::test]
async fn the_webhook_refuses_a_wrong_or_missing_secret_token() {
    let w = world().await;
    let app = settle_bot::webhook_router(w.bot.clone(), SecretString::from("s3cret-token"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{addr}/webhooks/telegram");
    let token = w.accounts.create_telegram_link(w.account).await.unwrap();
    let update = w.text_update(CHAT, &format!("/start {}", token.expose()));
    let client = reqwest::Client::new();
    let post = |secret: Option<&'static str>| {
        let mut r = client.post(&url).json(&update);
        if let Some(s) = secret {
            r = r.header(settle_bot::SECRET_HEADER, s);
        }
        r.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("wrong")).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("s3cret-token-and-more")).await.unwrap().status(),
        401
    );
    assert_eq!(
        w.accounts.telegram_chat(CHAT).await.unwrap(),
        None,
        "nothing changed"
    );
    let bad = client
        .post(&url)
        .header(settle_bot::SECRET_HEADER, "s3cret-token")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(post(Some("s3cret-token")).await.unwrap().status(), 200);
    let chat = w.accounts.telegram_chat(CHAT).await.unwrap().unwrap();
    assert_eq!(chat.account, Some(w.account));
}
