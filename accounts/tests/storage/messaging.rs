//! Messaging stories: the scheduling run, the outbox sent at most once, replies.

use std::collections::VecDeque;
use std::sync::Mutex;

use accounts::messaging::{
    InboundSms, LinkSettings, OutboundSms, OutboxStatus, RunOptions, SendOutcome, SenderOptions,
    SmsFuture, SmsGateway,
};
use accounts::{Accounts, HoldKind};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::compliance::Channel;
use domain::{AccountId, Actor};

use super::{agency, good_row, import, one_account, raw_execute, Harness, HEADER};

pub fn options() -> RunOptions {
    RunOptions {
        batch: 50,
        links: LinkSettings {
            public_url: "https://pay.test".into(),
            ttl: Duration::days(30),
            telegram_bot: None,
        },
    }
}

/// A provider whose answers the test scripts; records every message it was handed.
#[derive(Default)]
pub struct Scripted {
    answers: Mutex<VecDeque<SendOutcome>>,
    pub handed: Mutex<Vec<OutboundSms>>,
}

impl Scripted {
    fn then(&self, outcome: SendOutcome) {
        self.answers.lock().unwrap().push_back(outcome);
    }

    fn handed(&self) -> Vec<OutboundSms> {
        self.handed.lock().unwrap().clone()
    }
}

impl SmsGateway for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn send<'a>(&'a self, sms: &'a OutboundSms) -> SmsFuture<'a> {
        Box::pin(async move {
            self.handed.lock().unwrap().push(sms.clone());
            self.answers
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(SendOutcome::Accepted {
                    provider_id: format!("SM{}", sms.outbox_id),
                    status: "queued".into(),
                })
        })
    }
}

fn sender() -> SenderOptions {
    SenderOptions {
        worker: "test:1".into(),
        batch: 10,
        concurrency: 4,
        lease: Duration::minutes(2),
        max_attempts: 3,
        from: "+15005550006".into(),
        status_callback: None,
        per_second: None,
    }
}

/// Hour `h` (UTC) of the harness clock's first day.
pub fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap()
}

async fn consent(acc: &Accounts, account: AccountId) -> (bool, bool) {
    let (_, q) = acc
        .contact_question(
            account,
            Channel::Sms,
            domain::compliance::Purpose::Reminder,
            Utc::now(),
        )
        .await
        .unwrap();
    (
        q.consumer.opted_out.contains(Channel::Sms),
        q.consumer.refused_channels.contains(Channel::Sms),
    )
}

pub async fn a_cadence_queues_each_step_once_with_its_decision(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let account = one_account(acc, agency, "M-1").await;
    h.clock.set(at(15)); // 10:00 in Boston
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!((report.decided, report.queued), (1, 1), "{report:?}");
    let out = acc.account_outbox(account).await.unwrap();
    assert_eq!(out.len(), 1);
    let first = &out[0];
    assert_eq!(first.kind, "validation_link");
    assert_eq!(first.recipient, "+16175550142");
    assert_eq!(first.status, OutboxStatus::Pending);
    // Spanish, with the link, the opt-out notice and the initial disclosure; no amount
    // and no creditor.
    assert!(
        first.body.starts_with("Hola Ana, Acme Recovery"),
        "{}",
        first.body
    );
    assert!(first.body.contains("https://pay.test/l/"), "{}", first.body);
    assert!(first.body.contains("Responda STOP"), "{}", first.body);
    assert!(
        first.body.contains("intenta cobrar una deuda"),
        "{}",
        first.body
    );
    assert!(!first.body.contains("912") && !first.body.contains("Acme Medical"));
    let log = acc.decision_log(account, 10).await.unwrap();
    assert_eq!(log[0].id, first.decision_id);
    assert_eq!(log[0].decision, "allow");
    assert_eq!(log[0].purpose, "validation_notice");
    // The link in the text opens the account.
    let token = first
        .body
        .split("/l/")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let token = accounts::portal::LinkToken::parse(token).unwrap();
    assert_eq!(
        acc.resolve_link(&token).await.unwrap(),
        accounts::portal::LinkStatus::Valid(account)
    );

    // Nothing more is due until day 3; then the reminder, with the short disclosure.
    assert_eq!(acc.run_schedule(&options()).await.unwrap().decided, 0);
    h.clock.set(at(15) + Duration::days(3));
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!(report.queued, 1, "{report:?}");
    let out = acc.account_outbox(account).await.unwrap();
    assert_eq!(out[1].kind, "reminder");
    assert!(out[1]
        .body
        .ends_with("Esta es una comunicación de un cobrador de deudas."));
    assert_eq!(acc.run_schedule(&options()).await.unwrap().decided, 0);
}

pub async fn quiet_hours_defer_and_holds_deny_with_a_logged_reason(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let account = one_account(acc, agency, "M-2").await;
    h.clock.set(at(6) + Duration::days(1)); // 01:00 in Boston, the day after placement
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!((report.deferred, report.queued), (1, 0), "{report:?}");
    let log = acc.decision_log(account, 1).await.unwrap();
    assert_eq!(log[0].decision, "defer");
    assert!(log[0].reasons.contains(&"quiet_hours".to_string()));
    let next = log[0].next_allowed_at.unwrap();
    // Asked again only when the engine allows it: then it goes.
    h.clock.set(next - Duration::minutes(1));
    assert_eq!(acc.run_schedule(&options()).await.unwrap().decided, 0);
    h.clock.set(next);
    assert_eq!(acc.run_schedule(&options()).await.unwrap().queued, 1);

    let other = one_account(acc, agency, "M-3").await;
    acc.set_hold(
        other,
        HoldKind::Attorney,
        "letter from counsel",
        None,
        &Actor::System("t".into()),
    )
    .await
    .unwrap();
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!(report.denied, 1, "{report:?}");
    let log = acc.decision_log(other, 1).await.unwrap();
    assert_eq!(log[0].reasons, vec!["attorney_represented".to_string()]);
    assert!(acc.account_outbox(other).await.unwrap().is_empty());
}

pub async fn the_outbox_sends_at_most_once(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let rows: String = (0..4).map(|i| good_row(&format!("S-{i}")) + "\n").collect();
    import(acc, agency, format!("{HEADER}\n{rows}")).await;
    h.clock.set(at(15));
    assert_eq!(acc.run_schedule(&options()).await.unwrap().queued, 4);

    let gw = Scripted::default();
    gw.then(SendOutcome::NotAccepted {
        detail: "429 too many requests".into(),
    });
    gw.then(SendOutcome::Unknown {
        detail: "timed out after sending".into(),
    });
    gw.then(SendOutcome::Rejected {
        code: "21614".into(),
        message: "not a mobile number".into(),
    });
    let mut one_at_a_time = sender();
    one_at_a_time.concurrency = 1;
    let report = acc.send_outbox(&gw, &one_at_a_time).await.unwrap();
    assert_eq!(
        (report.sent, report.retried, report.review, report.failed),
        (1, 1, 1, 1),
        "{report:?}"
    );
    // Nothing is handed over again until the retry time, and never the unknown one.
    assert_eq!(acc.send_outbox(&gw, &sender()).await.unwrap().sent, 0);
    h.clock.set(at(15) + Duration::minutes(2));
    let report = acc.send_outbox(&gw, &sender()).await.unwrap();
    assert_eq!((report.sent, report.review), (1, 0), "{report:?}");
    let handed = gw.handed();
    assert_eq!(handed.len(), 5);
    let mut ids: Vec<i64> = handed.iter().map(|s| s.outbox_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "only the throttled message went twice");
    let counts = acc.outbox_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![
            ("failed".to_string(), 1),
            ("review".to_string(), 1),
            ("sent".to_string(), 2)
        ]
    );

    // A worker that died after handing a row to the provider and before recording the
    // answer leaves it `sending`: after the lease it goes to review and is not sent again.
    // A row it had claimed but not yet handed over is simply sent, once.
    let rows: String = (0..2).map(|i| good_row(&format!("C-{i}")) + "\n").collect();
    import(acc, agency, format!("{HEADER}\n{rows}")).await;
    acc.run_schedule(&options()).await.unwrap();
    let claimed = "status = 'sending', claimed_at = '2026-11-23T15:00:00+00:00', attempts = 1";
    raw_execute(
        h,
        &format!(
            "UPDATE outbox SET {claimed}, handed_at = '2026-11-23T15:00:01+00:00'
             WHERE id = (SELECT MIN(id) FROM outbox WHERE status = 'pending')"
        ),
    )
    .await
    .unwrap();
    raw_execute(
        h,
        &format!("UPDATE outbox SET {claimed} WHERE status = 'pending'"),
    )
    .await
    .unwrap();
    h.clock.set(at(15) + Duration::minutes(10));
    let report = acc.send_outbox(&gw, &sender()).await.unwrap();
    assert_eq!((report.abandoned, report.sent), (1, 1), "{report:?}");
    assert_eq!(gw.handed().len(), 6);

    // Delivery reports: a bounce is kept as the row's error; an unknown id is refused.
    let sent = acc.recent_outbox(None, 10).await.unwrap();
    let delivered = sent
        .iter()
        .find(|m| m.status == OutboxStatus::Sent)
        .unwrap();
    let pid = delivered.provider_id.clone().unwrap();
    assert!(acc
        .record_delivery(None, &pid, "undelivered", Some("30006"))
        .await
        .unwrap());
    assert!(!acc
        .record_delivery(None, "SMnope", "delivered", None)
        .await
        .unwrap());
    let row = acc
        .recent_outbox(None, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.id == delivered.id)
        .unwrap();
    assert_eq!(row.status, OutboxStatus::Failed);
    assert_eq!(row.error.as_deref(), Some("undelivered: 30006"));
}

pub async fn parallel_runs_produce_each_message_once(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let rows: String = (0..120)
        .map(|i| good_row(&format!("P-{i}")) + "\n")
        .collect();
    import(acc, agency, format!("{HEADER}\n{rows}")).await;
    h.clock.set(at(15));
    let mut small = options();
    small.batch = 7;
    // Two processes' worth of runners: one backend runs one SQLite run at a time, so the
    // second's commits fall between the first's batches and make it re-read what it had
    // decided ahead.
    let other = Accounts::open(&h.url, h.clock.clone()).await.unwrap();
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let acc = if i % 2 == 0 {
                acc.clone()
            } else {
                other.clone()
            };
            let opts = small.clone();
            tokio::spawn(async move { acc.run_schedule(&opts).await.unwrap() })
        })
        .collect();
    let mut queued = 0;
    for r in runs {
        queued += r.await.unwrap().queued;
    }
    other.close().await;
    assert_eq!(queued, 120);
    assert_eq!(
        acc.outbox_counts().await.unwrap(),
        vec![("pending".to_string(), 120)]
    );
    let gw = Scripted::default();
    let sends: Vec<_> = (0..3)
        .map(|_| {
            let acc = acc.clone();
            let gw = &gw;
            async move { acc.send_outbox(gw, &sender()).await.unwrap().sent }
        })
        .collect();
    let sent: u64 = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .sum();
    assert_eq!(sent, 120);
    let mut ids: Vec<i64> = gw.handed().iter().map(|s| s.outbox_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 120);
    assert_eq!(gw.handed().len(), 120);
}

pub async fn replies_are_understood_acted_on_and_answered(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let account = one_account(acc, agency, "R-1").await;
    h.clock.set(at(15));
    acc.run_schedule(&options()).await.unwrap();
    let phone = "+16175550142";
    let sms = |body: &str, sid: &str| InboundSms {
        provider_id: Some(sid.into()),
        from: phone.into(),
        body: body.into(),
    };

    let stop = acc
        .receive_sms(&sms("Stop texting me!", "SMa"), &options().links)
        .await
        .unwrap();
    assert_eq!(stop.intent, "opt_out");
    assert_eq!(stop.accounts, vec![account.0]);
    assert_eq!(stop.replies_queued, 1);
    assert_eq!(consent(acc, account).await, (true, false));
    let again = acc
        .receive_sms(&sms("Stop texting me!", "SMa"), &options().links)
        .await
        .unwrap();
    assert!(again.repeat);
    let out = acc.account_outbox(account).await.unwrap();
    assert_eq!(
        out.iter()
            .filter(|m| m.kind == "opt_out_confirmation")
            .count(),
        1
    );
    // The next run sends nothing by text.
    h.clock.set(at(15) + Duration::days(3));
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!((report.denied, report.queued), (1, 0), "{report:?}");

    let start = acc
        .receive_sms(&sms("START", "SMb"), &options().links)
        .await
        .unwrap();
    assert_eq!(start.intent, "opt_in");
    assert_eq!(consent(acc, account).await, (false, false));

    let lawyer = acc
        .receive_sms(
            &sms("I have a lawyer, talk to him", "SMc"),
            &options().links,
        )
        .await
        .unwrap();
    assert_eq!(lawyer.intent, "attorney");
    assert_eq!(
        acc.active_holds(account).await.unwrap(),
        vec![HoldKind::Attorney]
    );

    let dispute = acc
        .receive_sms(&sms("this is not my debt", "SMd"), &options().links)
        .await
        .unwrap();
    assert_eq!(dispute.intent, "not_my_debt");
    assert_eq!(acc.open_disputes(account).await.unwrap(), 1);

    let other = acc
        .receive_sms(
            &sms("Can someone call me back about this", "SMe"),
            &options().links,
        )
        .await
        .unwrap();
    assert_eq!(other.intent, "other");
    let inbox = acc.inbox(true, 10).await.unwrap();
    let open: Vec<&str> = inbox.iter().map(|m| m.intent.as_str()).collect();
    assert_eq!(open, vec!["other", "not_my_debt", "attorney"]);

    let stranger = acc
        .receive_sms(
            &InboundSms {
                provider_id: Some("SMf".into()),
                from: "+12025550199".into(),
                body: "STOP".into(),
            },
            &options().links,
        )
        .await
        .unwrap();
    assert!(stranger.accounts.is_empty());
    assert_eq!(acc.inbox(true, 10).await.unwrap().len(), 4);

    let wrong = one_account(acc, agency, "R-2").await;
    raw_execute(
        h,
        &format!(
            "UPDATE accounts SET phone = '+16175550100' WHERE id = {}",
            wrong.0
        ),
    )
    .await
    .unwrap();
    let outcome = acc
        .receive_sms(
            &InboundSms {
                provider_id: Some("SMg".into()),
                from: "+16175550100".into(),
                body: "wrong number".into(),
            },
            &options().links,
        )
        .await
        .unwrap();
    assert_eq!(outcome.intent, "wrong_number");
    assert_eq!(outcome.replies_queued, 0);
    assert_eq!(consent(acc, wrong).await, (false, true));
}

pub async fn payment_messages_are_decided_and_queued_once(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let account = one_account(acc, agency, "Q-1").await;
    h.clock.set(at(15));
    raw_execute(
        h,
        &format!(
            "INSERT INTO message_requests (account_id, purpose, subject, link_path, created_at)
             VALUES ({}, 'payment_receipt', 'payment:1', '/receipt/1', '2026-11-23T15:00:00Z')",
            account.0
        ),
    )
    .await
    .unwrap();
    let report = acc.run_schedule(&options()).await.unwrap();
    assert_eq!(report.queued, 2, "{report:?}");
    assert_eq!(acc.run_schedule(&options()).await.unwrap().decided, 0);
    let kinds: Vec<String> = acc
        .account_outbox(account)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(kinds, vec!["validation_link", "payment_receipt"]);
    // The receipt's link leads to the receipt after the identity check; the first message's
    // to the account page.
    let out = acc.account_outbox(account).await.unwrap();
    let next = |body: &str| {
        let token = body.split("/l/").nth(1).unwrap().split(' ').next().unwrap();
        accounts::portal::LinkToken::parse(token).unwrap()
    };
    assert_eq!(
        acc.link_next_path(&next(&out[1].body))
            .await
            .unwrap()
            .as_deref(),
        Some("/receipt/1")
    );
    assert_eq!(acc.link_next_path(&next(&out[0].body)).await.unwrap(), None);
    assert!(acc.pending_message_requests(10).await.unwrap().is_empty());
}

pub async fn queued_messages_are_rechecked_at_their_turn_and_cancelled_by_new_facts(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let rows: String = (0..3).map(|i| good_row(&format!("Q-{i}")) + "\n").collect();
    import(acc, agency, format!("{HEADER}\n{rows}")).await;
    // Decided at 20:30 in Boston, allowed; its turn comes at 21:10: too late today.
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 24, 1, 30, 0).unwrap());
    assert_eq!(acc.run_schedule(&options()).await.unwrap().queued, 3);
    let queued = acc.recent_outbox(None, 10).await.unwrap();
    let (late, held, opted) = (queued[0].clone(), queued[1].clone(), queued[2].clone());

    // A hold and an opt-out arrive before sending: those messages are cancelled.
    let by = Actor::System("t".into());
    acc.set_hold(
        AccountId(held.account_id),
        HoldKind::Bankruptcy,
        "chapter 7",
        None,
        &by,
    )
    .await
    .unwrap();
    acc.change_consent(
        AccountId(opted.account_id),
        Channel::Sms,
        accounts::ConsentChange::OptOut,
        "portal",
    )
    .await
    .unwrap();

    h.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 24, 2, 10, 0).unwrap());
    let gw = Scripted::default();
    let report = acc.send_outbox(&gw, &sender()).await.unwrap();
    assert_eq!((report.sent, report.rechecked), (0, 1), "{report:?}");
    assert!(gw.handed().is_empty());
    let status = |id: i64| {
        let acc = acc.clone();
        async move {
            acc.recent_outbox(None, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.id == id)
                .unwrap()
        }
    };
    assert_eq!(status(held.id).await.status, OutboxStatus::Cancelled);
    assert_eq!(status(opted.id).await.status, OutboxStatus::Cancelled);
    let waiting = status(late.id).await;
    assert_eq!(waiting.status, OutboxStatus::Pending);
    let log = acc
        .decision_log(AccountId(late.account_id), 1)
        .await
        .unwrap();
    assert_eq!(log[0].decision, "defer");
    assert!(log[0].reasons.contains(&"quiet_hours".to_string()));
    // At 08:00 it goes, once.
    h.clock.set(log[0].next_allowed_at.unwrap());
    assert_eq!(acc.send_outbox(&gw, &sender()).await.unwrap().sent, 1);
    assert_eq!(gw.handed().len(), 1);
    assert_eq!(status(late.id).await.status, OutboxStatus::Sent);

    // A delivery report for a row marked for review (it was sent after all) settles it.
    raw_execute(
        h,
        &format!("UPDATE outbox SET status = 'review' WHERE id = {}", late.id),
    )
    .await
    .unwrap();
    assert!(acc
        .record_delivery(Some(late.id), "SMlate", "delivered", None)
        .await
        .unwrap());
    assert_eq!(status(late.id).await.status, OutboxStatus::Delivered);
}

pub async fn a_message_that_never_arrived_does_not_count_as_the_first_contact(h: &Harness) {
    let acc = &h.accounts;
    let agency = agency(acc).await;
    let account = one_account(acc, agency, "F-1").await;
    h.clock.set(at(15));
    acc.run_schedule(&options()).await.unwrap();
    let gw = Scripted::default();
    gw.then(SendOutcome::Rejected {
        code: "30006".into(),
        message: "landline or unreachable carrier".into(),
    });
    assert_eq!(acc.send_outbox(&gw, &sender()).await.unwrap().failed, 1);
    // The next message is the first the debtor receives: it carries the full disclosure.
    h.clock.set(at(15) + Duration::days(3));
    assert_eq!(acc.run_schedule(&options()).await.unwrap().queued, 1);
    let out = acc.account_outbox(account).await.unwrap();
    assert_eq!(out[0].status, OutboxStatus::Failed);
    assert_eq!(out[1].kind, "reminder");
    assert!(
        out[1].body.contains("intenta cobrar una deuda"),
        "{}",
        out[1].body
    );
}
