//! Telegram stories: binding links, chats, and where reminders go.

use accounts::messaging::{
    ChatGateway, OutboundChat, RunOptions, SendOutcome, SenderOptions, SmsFuture, CHAT_BLOCKED,
};
use accounts::telegram::{BindOutcome, TelegramToken};
use chrono::Duration;

use super::{agency, one_account, Harness};

struct Blocking;

impl ChatGateway for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }

    fn send<'a>(&'a self, _: &'a OutboundChat) -> SmsFuture<'a> {
        Box::pin(async {
            SendOutcome::Rejected {
                code: CHAT_BLOCKED.into(),
                message: "Forbidden: bot was blocked by the user".into(),
            }
        })
    }
}

fn options() -> RunOptions {
    RunOptions {
        batch: 50,
        links: accounts::messaging::LinkSettings {
            public_url: "https://pay.test".into(),
            ttl: Duration::days(30),
            telegram_bot: None,
        },
    }
}

fn sender() -> SenderOptions {
    SenderOptions {
        worker: "test".into(),
        batch: 50,
        concurrency: 1,
        lease: Duration::minutes(2),
        max_attempts: 3,
        from: String::new(),
        status_callback: None,
        per_second: None,
    }
}

pub async fn telegram_links_bind_once_and_a_blocked_chat_hands_reminders_back(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let account = one_account(acc, agency, "T-1").await;
    // 10:00 in Boston.
    h.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 24, 15, 0, 0).unwrap());
    let token = acc.create_telegram_link(account).await.unwrap();
    assert_eq!(token.expose().len(), 43);
    assert_eq!(format!("{token:?}"), "TelegramToken(***)");
    assert_eq!(
        acc.bind_telegram(42, &token).await.unwrap(),
        BindOutcome::Bound(account)
    );
    assert_eq!(
        acc.bind_telegram(43, &token).await.unwrap(),
        BindOutcome::Used
    );
    let forged = TelegramToken::parse(&"x".repeat(43)).unwrap();
    assert_eq!(
        acc.bind_telegram(43, &forged).await.unwrap(),
        BindOutcome::Unknown
    );
    let late = acc.create_telegram_link(account).await.unwrap();
    let now = accounts::Clock::now(h.clock.as_ref());
    h.clock.set(now + Duration::hours(25));
    assert_eq!(
        acc.bind_telegram(43, &late).await.unwrap(),
        BindOutcome::Expired
    );
    h.clock.set(now);
    assert!(!acc.update_handled(5).await.unwrap());
    assert!(acc.first_update(5).await.unwrap());
    assert!(!acc.first_update(5).await.unwrap());
    assert_eq!(acc.last_update_id().await.unwrap(), Some(5));

    // Bound: the reminder goes to the chat; blocked: the row fails, the chat is marked,
    // and the next reminder goes to the phone.
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!(report.queued, 1, "{report:?}");
    let out = acc.account_outbox(account).await.unwrap();
    assert_eq!(
        (out[0].channel.as_str(), out[0].recipient.as_str()),
        ("telegram", "42")
    );
    let sent = acc.send_chats(&Blocking, &sender()).await.unwrap();
    assert_eq!(sent.failed, 1);
    let chat = acc.telegram_chat(42).await.unwrap().unwrap();
    assert!(chat.blocked && chat.account == Some(account));
    h.clock.set(now + Duration::days(4));
    acc.run_schedule(&options()).await.unwrap();
    let out = acc.account_outbox(account).await.unwrap();
    let last = out.iter().max_by_key(|m| m.id).unwrap();
    assert_eq!(last.channel, "sms", "{out:?}");

    // A text answering HELP offers Telegram with a fresh binding link, when a bot is
    // configured; that link binds a chat.
    let mut links = options().links;
    links.telegram_bot = Some("settle_test_bot".into());
    let sms = accounts::messaging::InboundSms {
        provider_id: Some("SM-help-1".into()),
        from: "+16175550142".into(),
        body: "HELP".into(),
    };
    let outcome = acc.receive_sms(&sms, &links).await.unwrap();
    assert_eq!(outcome.replies_queued, 1, "{outcome:?}");
    let out = acc.account_outbox(account).await.unwrap();
    let help = out.iter().max_by_key(|m| m.id).unwrap();
    assert_eq!(help.kind, "help");
    let payload = help
        .body
        .split("https://t.me/settle_test_bot?start=")
        .nth(1)
        .unwrap_or_else(|| panic!("no Telegram offer in {}", help.body))
        .split(' ')
        .next()
        .unwrap();
    let token = TelegramToken::parse(payload).unwrap();
    assert_eq!(
        acc.bind_telegram(77, &token).await.unwrap(),
        BindOutcome::Bound(account)
    );
}
