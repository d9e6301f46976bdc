//! The Stripe adapter against a local fake Stripe: async-stripe pointed at it by base URL,
//! a real SQLite backend, and webhook events signed with Stripe's scheme.

#[path = "support/fake_stripe.rs"]
mod fake_stripe;

use std::sync::Arc;

use accounts::payments::{
    Applied, ChargeOutcome, ChargeRequest, NewPayment, PaymentGateway, Purpose,
};
use accounts::{Accounts, FixedClock};
use chrono::{Duration, TimeZone, Utc};
use domain::payment::Frequency;
use domain::{AccountId, AccountRef, Currency, Money};
use fake_stripe::{FakeStripe, DECLINING_METHOD, SECRET};
use proptest::prelude::*;
use settle_stripe::{read_webhook, StripeGateway, WebhookError};

const URL: &str = "http://portal.test";

struct World {
    accounts: Accounts,
    fake: FakeStripe,
    stripe: StripeGateway,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("settle.db").display());
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap(),
    ));
    let accounts = Accounts::open(&url, clock).await.unwrap();
    accounts.seed_demo().await.unwrap();
    let fake = FakeStripe::start().await;
    let stripe = StripeGateway::new("sk_test_fake", &fake.url).unwrap();
    World {
        accounts,
        fake,
        stripe,
        _dir: dir,
    }
}

async fn account(w: &World, n: u32) -> AccountId {
    let agency = w.accounts.agencies().await.unwrap()[0].id;
    let r = AccountRef::parse(&format!("DEMO-{}", 1000 + n)).unwrap();
    w.accounts
        .account_by_ref(agency, &r)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Delivers a signed event as the webhook route does: verify, read, apply.
async fn deliver(w: &World, payload: &str) -> Applied {
    let sig = FakeStripe::sign(payload, Utc::now().timestamp());
    let event = read_webhook(&w.stripe, payload, &sig, SECRET)
        .await
        .unwrap();
    w.accounts.apply_event(&event).await.unwrap()
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD).unwrap()
}

#[tokio::test]
async fn a_checkout_payment_lands_once_from_either_event() {
    let w = world().await;
    let id = account(&w, 7).await;
    let before = w.accounts.balance(id).await.unwrap();
    let (payment, checkout) = w
        .accounts
        .start_checkout(
            &w.stripe,
            &NewPayment {
                account: id,
                purpose: Purpose::OneTime,
                amount: usd(5_000),
                settlement_id: None,
                description: "Harbor Point".into(),
            },
            URL,
        )
        .await
        .unwrap();
    assert!(checkout.url.starts_with("https://checkout.fake/cs_"));
    let (events, intent) = w.fake.pay(&checkout.id);
    for e in events.iter().chain(events.iter()) {
        deliver(&w, e).await;
    }
    assert_eq!(
        w.accounts.balance(id).await.unwrap().minor(),
        before.minor() - 5_000
    );
    let record = w.accounts.payment(payment).await.unwrap();
    assert_eq!(record.status, "succeeded");
    assert_eq!(record.intent_ref.as_deref(), Some(intent.as_str()));
}

#[tokio::test]
async fn bad_signatures_stale_timestamps_and_tampered_bodies_are_refused() {
    let w = world().await;
    let id = account(&w, 7).await;
    let before = w.accounts.balance(id).await.unwrap();
    let (_, checkout) = w
        .accounts
        .start_checkout(
            &w.stripe,
            &NewPayment {
                account: id,
                purpose: Purpose::OneTime,
                amount: usd(2_500),
                settlement_id: None,
                description: "x".into(),
            },
            URL,
        )
        .await
        .unwrap();
    let (events, _) = w.fake.pay(&checkout.id);
    let payload = &events[0];
    let now = Utc::now().timestamp();
    let refused = |r: Result<_, WebhookError>| matches!(r, Err(WebhookError::Signature(_)));
    assert!(refused(read_webhook(&w.stripe, payload, "", SECRET).await));
    assert!(refused(
        read_webhook(&w.stripe, payload, "t=1,v1=00ff", SECRET).await
    ));
    assert!(refused(
        read_webhook(
            &w.stripe,
            payload,
            &FakeStripe::sign(payload, now - 301),
            SECRET
        )
        .await
    ));
    let tampered = payload.replace("2500", "9999999");
    assert!(refused(
        read_webhook(
            &w.stripe,
            &tampered,
            &FakeStripe::sign(payload, now),
            SECRET
        )
        .await
    ));
    assert!(refused(
        read_webhook(
            &w.stripe,
            payload,
            &FakeStripe::sign(payload, now),
            "whsec_other"
        )
        .await
    ));
    assert_eq!(w.accounts.balance(id).await.unwrap(), before);
    // Within the 5-minute tolerance, it is accepted.
    let ok = read_webhook(
        &w.stripe,
        payload,
        &FakeStripe::sign(payload, now - 240),
        SECRET,
    )
    .await;
    assert!(ok.is_ok());
}

#[tokio::test]
async fn a_plan_saves_a_card_and_charges_off_session_once_per_key() {
    let w = world().await;
    let id = account(&w, 8).await;
    let today = w.accounts.clock().now().date_naive();
    let terms = w.accounts.payment_terms(id).await.unwrap();
    let balance = w.accounts.balance(id).await.unwrap();
    let schedule = terms
        .schedule(balance, Frequency::Weekly, 3, today, today)
        .unwrap();
    let (_, setup) = w
        .accounts
        .create_plan(
            &w.stripe,
            id,
            Frequency::Weekly,
            &schedule,
            "I authorize",
            URL,
        )
        .await
        .unwrap();
    assert_eq!(
        deliver(&w, &w.fake.save_card(&setup.id, "pm_card_visa")).await,
        Applied::Applied
    );
    assert_eq!(w.accounts.plan(id).await.unwrap().unwrap().status, "active");

    // The first instalment is due today: charged once, even when the pass runs twice.
    assert_eq!(
        w.accounts
            .charge_due_instalments(&w.stripe, 10)
            .await
            .unwrap(),
        (1, 0)
    );
    assert_eq!(
        w.accounts
            .charge_due_instalments(&w.stripe, 10)
            .await
            .unwrap(),
        (0, 0)
    );
    assert_eq!(w.fake.charges_created(), 1);
    assert_eq!(
        w.accounts.balance(id).await.unwrap().minor(),
        balance.minor() - schedule[0].amount.minor()
    );

    // A request retried with the same idempotency key charges once.
    let req = ChargeRequest {
        account: id,
        instalment_id: 999,
        customer: "cus_x".into(),
        method: "pm_card_visa".into(),
        amount: usd(1_000),
        idempotency_key: "settle-instalment-999-1".into(),
    };
    let first = w.stripe.charge(&req).await.unwrap();
    let again = w.stripe.charge(&req).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(w.fake.charges_created(), 2);

    // A declined card is the debtor's to fix, with Stripe's reason.
    let declined = w
        .stripe
        .charge(&ChargeRequest {
            method: DECLINING_METHOD.into(),
            idempotency_key: "settle-instalment-999-2".into(),
            ..req
        })
        .await
        .unwrap();
    assert!(matches!(
        declined,
        ChargeOutcome::Failed { ref reason, intent: Some(_) } if reason == "generic_decline"
    ));
}

#[tokio::test]
async fn reconciliation_applies_payments_whose_webhooks_never_came() {
    let w = world().await;
    let id = account(&w, 9).await;
    let before = w.accounts.balance(id).await.unwrap();
    w.fake.set_now(Utc::now().timestamp());
    let (_, checkout) = w
        .accounts
        .start_checkout(
            &w.stripe,
            &NewPayment {
                account: id,
                purpose: Purpose::OneTime,
                amount: usd(3_000),
                settlement_id: None,
                description: "x".into(),
            },
            URL,
        )
        .await
        .unwrap();
    let _lost_webhooks = w.fake.pay(&checkout.id);
    for _ in 0..2 {
        let events = w
            .stripe
            .recent_events(Utc::now() - Duration::days(3))
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        for e in &events {
            w.accounts.apply_event(e).await.unwrap();
        }
    }
    assert_eq!(
        w.accounts.balance(id).await.unwrap().minor(),
        before.minor() - 3_000
    );
}

#[derive(Debug, Clone)]
struct History {
    amount: i64,
    refunds: Vec<i64>,
    dispute_lost: bool,
}

fn arb_histories() -> impl Strategy<Value = Vec<History>> {
    proptest::collection::vec(
        (
            2_500i64..20_000,
            proptest::collection::vec(1i64..800, 0..3),
            any::<bool>(),
        )
            .prop_map(|(amount, refunds, dispute_lost)| History {
                amount,
                refunds,
                dispute_lost,
            }),
        1..5,
    )
}

#[test]
fn webhooks_in_any_order_and_repeated_leave_the_ledger_as_stripe_says() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let w = rt.block_on(world());
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 16,
        failure_persistence: None,
        ..Default::default()
    });
    let case = std::cell::Cell::new(10u32);
    let strategy = (
        arb_histories(),
        proptest::collection::vec(1usize..=3, 32),
        any::<u64>(),
    );
    runner
        .run(&strategy, |(histories, copies, seed)| {
            let n = case.get();
            case.set(n + 1);
            rt.block_on(async {
                let id = account(&w, n).await;
                let before = w.accounts.balance(id).await.unwrap().minor();
                let mut events = Vec::new();
                for h in &histories {
                    let (_, checkout) = w
                        .accounts
                        .start_checkout(
                            &w.stripe,
                            &NewPayment {
                                account: id,
                                purpose: Purpose::OneTime,
                                amount: usd(h.amount),
                                settlement_id: None,
                                description: "x".into(),
                            },
                            URL,
                        )
                        .await
                        .unwrap();
                    let (paid, intent) = w.fake.pay(&checkout.id);
                    events.extend(paid);
                    for r in &h.refunds {
                        events.push(w.fake.refund(&intent, *r));
                    }
                    if h.dispute_lost {
                        events.push(w.fake.dispute_lost(&intent));
                    }
                }
                let mut deliveries: Vec<&String> = events
                    .iter()
                    .enumerate()
                    .flat_map(|(i, e)| std::iter::repeat_n(e, copies[i % copies.len()]))
                    .collect();
                let mut state = seed | 1;
                for i in (1..deliveries.len()).rev() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    deliveries.swap(i, (state % (i as u64 + 1)) as usize);
                }
                for d in deliveries {
                    deliver(&w, d).await;
                }
                let after = w.accounts.balance(id).await.unwrap().minor();
                prop_assert_eq!(before - after, w.fake.net(id.0));
                Ok(())
            })
        })
        .unwrap();
}
