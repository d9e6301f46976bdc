//! Payments: terms, checkouts with the demo processor, settlements, plans and their
//! instalments, and processor events applied exactly once whatever their order.

use accounts::payments::{
    Applied, DemoGateway, DemoOutcome, EventKind, NewPayment, ProcessorEvent, Purpose,
};
use chrono::Duration;
use domain::payment::{Frequency, PaymentTerms, PlanRules, SettlementRule};
use proptest::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{agency, one_account, usd, Harness};

const URL: &str = "http://portal.test";

pub fn terms() -> PaymentTerms {
    PaymentTerms {
        min_payment: usd(2_000),
        plan: Some(PlanRules {
            min_instalment: usd(2_000),
            max_instalments: 12,
            max_months: 12,
            frequencies: Frequency::ALL.to_vec(),
            first_within_days: 30,
        }),
        settlement: Some(SettlementRule {
            min_share_bp: 6_000,
            valid_days: 14,
        }),
        convenience_fee: None,
    }
}

pub async fn terms_checkout_and_demo_payment_post_once(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "PAY-1").await;

    // No terms set: the built-in default; the agency default; then the creditor's own.
    assert!(acc.payment_terms(id).await.unwrap().plan.is_none());
    let mut default = terms();
    default.min_payment = usd(500);
    acc.set_payment_terms(agency, "", &default).await.unwrap();
    assert_eq!(acc.payment_terms(id).await.unwrap().min_payment, usd(500));
    acc.set_payment_terms(agency, "Acme Medical", &terms())
        .await
        .unwrap();
    assert_eq!(acc.payment_terms(id).await.unwrap(), terms());

    let demo = DemoGateway::new(URL);
    let (payment, checkout) = acc
        .start_checkout(
            &demo,
            &NewPayment {
                account: id,
                purpose: Purpose::OneTime,
                amount: usd(10_000),
                settlement_id: None,
                description: "Acme".into(),
            },
            URL,
        )
        .await
        .unwrap();
    assert!(checkout
        .url
        .starts_with("http://portal.test/demo-checkout/demo_cs_"));
    assert_eq!(acc.payment(payment).await.unwrap().status, "pending");

    assert_eq!(
        acc.demo_complete(&checkout.id, "1234 5678").await.unwrap(),
        DemoOutcome::UnknownCard
    );
    assert_eq!(
        acc.demo_complete(&checkout.id, "4242 4242 4242 4242")
            .await
            .unwrap(),
        DemoOutcome::Paid(payment)
    );
    // Submitted twice (a double click, a reload): the same event, applied once.
    acc.demo_complete(&checkout.id, "4242424242424242")
        .await
        .unwrap();
    assert_eq!(acc.balance(id).await.unwrap(), usd(91_250 - 10_000));
    let record = acc.payment(payment).await.unwrap();
    assert_eq!(record.status, "succeeded");
    assert!(record.intent_ref.is_some());

    // A declined card marks the payment failed and moves no money.
    let (declined, c2) = acc
        .start_checkout(
            &demo,
            &NewPayment {
                account: id,
                purpose: Purpose::OneTime,
                amount: usd(5_000),
                settlement_id: None,
                description: "Acme".into(),
            },
            URL,
        )
        .await
        .unwrap();
    assert_eq!(
        acc.demo_complete(&c2.id, "4000000000000002").await.unwrap(),
        DemoOutcome::Declined(declined)
    );
    assert_eq!(acc.payment(declined).await.unwrap().status, "failed");
    assert_eq!(acc.balance(id).await.unwrap(), usd(81_250));

    // One receipt message is asked for, for the payment that went through.
    let requests = acc.pending_message_requests(100).await.unwrap();
    let receipts: Vec<_> = requests
        .iter()
        .filter(|r| r.account == id && r.purpose == "payment_receipt")
        .collect();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].link_path, format!("/receipt/{payment}"));
}

pub async fn a_paid_settlement_writes_off_the_rest(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "PAY-2").await;
    acc.set_payment_terms(agency, "", &terms()).await.unwrap();
    let today = acc.clock().now().date_naive();
    let s = acc.accept_settlement(id, today).await.unwrap();
    assert_eq!(s.amount, usd(54_750)); // 60% of 912.50
    assert_eq!(s.valid_until, today + Duration::days(14));
    let demo = DemoGateway::new(URL);
    let (_, checkout) = acc
        .start_checkout(
            &demo,
            &NewPayment {
                account: id,
                purpose: Purpose::Settlement,
                amount: s.amount,
                settlement_id: Some(s.id),
                description: "x".into(),
            },
            URL,
        )
        .await
        .unwrap();
    acc.demo_complete(&checkout.id, "4242424242424242")
        .await
        .unwrap();
    assert_eq!(acc.balance(id).await.unwrap(), usd(0));
    assert_eq!(acc.settlement(id).await.unwrap().unwrap().status, "paid");
    let kinds: Vec<_> = acc
        .postings(id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.posting.kind().as_str().to_string())
        .collect();
    assert_eq!(kinds, ["placement", "payment", "settlement_write_off"]);
}

pub async fn plans_charge_retry_break_and_move(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    acc.set_payment_terms(agency, "", &terms()).await.unwrap();
    let demo = DemoGateway::new(URL);
    let today = acc.clock().now().date_naive();
    let t = terms();

    // A good card: every instalment is charged on its day and the plan completes.
    let good = one_account(&acc, agency, "PLAN-1").await;
    let schedule = t
        .schedule(usd(91_250), Frequency::Monthly, 3, today, today)
        .unwrap();
    let (plan_id, setup) = acc
        .create_plan(
            &demo,
            good,
            Frequency::Monthly,
            &schedule,
            "I authorize...",
            URL,
        )
        .await
        .unwrap();
    assert_eq!(
        acc.plan(good).await.unwrap().unwrap().status,
        "awaiting_method"
    );
    // Nothing is charged before a method is saved.
    assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (0, 0));
    assert_eq!(
        acc.demo_complete(&setup.id, "4242424242424242")
            .await
            .unwrap(),
        DemoOutcome::Saved
    );
    let plan = acc.plan(good).await.unwrap().unwrap();
    assert_eq!((plan.id, plan.status.as_str()), (plan_id, "active"));

    // The debtor moves the next instalment out by a week, then the day comes.
    let later = today + Duration::days(7);
    acc.move_next_instalment(good, later, today).await.unwrap();
    assert!(acc
        .move_next_instalment(good, today + Duration::days(45), today)
        .await
        .is_err());
    assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (0, 0));
    for instalment in &acc.plan(good).await.unwrap().unwrap().instalments {
        h.clock.set(
            acc.clock()
                .now()
                .max(instalment.due.and_hms_opt(16, 0, 0).unwrap().and_utc()),
        );
        assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (1, 0));
        // A second pass the same day charges nothing more.
        assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (0, 0));
    }
    assert_eq!(acc.balance(good).await.unwrap(), usd(0));
    assert_eq!(acc.plan(good).await.unwrap().unwrap().status, "completed");

    // A card whose charges are declined: retried twice, then missed; two misses break it.
    let start = acc.clock().now();
    let bad = one_account(&acc, agency, "PLAN-2").await;
    let today = start.date_naive();
    let schedule = t
        .schedule(usd(91_250), Frequency::Weekly, 4, today, today)
        .unwrap();
    let (_, setup) = acc
        .create_plan(
            &demo,
            bad,
            Frequency::Weekly,
            &schedule,
            "I authorize...",
            URL,
        )
        .await
        .unwrap();
    acc.demo_complete(&setup.id, "4000000000000341")
        .await
        .unwrap();
    let mut failures = 0;
    for hours in 0..(24 * 15) {
        h.clock.set(start + Duration::hours(hours));
        failures += acc.charge_due_instalments(&demo, 10).await.unwrap().1;
    }
    let plan = acc.plan(bad).await.unwrap().unwrap();
    assert_eq!(plan.status, "broken");
    assert_eq!(plan.misses, 2);
    assert_eq!(failures, 6, "3 attempts for each of 2 missed instalments");
    let statuses: Vec<_> = plan.instalments.iter().map(|i| i.status.as_str()).collect();
    assert_eq!(statuses, ["failed", "failed", "cancelled", "cancelled"]);
    assert_eq!(acc.balance(bad).await.unwrap(), usd(91_250));

    // Each failure asks for a message linking to the plan page; so does the break. The
    // plan paid in full asked for a receipt per instalment.
    let requests = acc.pending_message_requests(1_000).await.unwrap();
    let count = |account, purpose: &str| {
        requests
            .iter()
            .filter(|r| r.account == account && r.purpose == purpose)
            .count()
    };
    assert_eq!(count(bad, "instalment_failed"), 6);
    assert_eq!(count(bad, "plan_broken"), 1);
    assert_eq!(count(good, "payment_receipt"), 3);
    assert!(requests
        .iter()
        .filter(|r| r.account == bad)
        .all(|r| r.link_path == "/plan"));
}

/// Several workers charging at once (on PostgreSQL each claim skips rows another holds)
/// charge every due instalment exactly once.
pub async fn parallel_charge_passes_charge_each_instalment_once(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    acc.set_payment_terms(agency, "", &terms()).await.unwrap();
    let demo = DemoGateway::new(URL);
    let today = acc.clock().now().date_naive();
    let t = terms();
    let mut accounts = Vec::new();
    for i in 0..24 {
        let account = one_account(&acc, agency, &format!("PAR-{i}")).await;
        let schedule = t
            .schedule(usd(91_250), Frequency::Monthly, 3, today, today)
            .unwrap();
        let (_, setup) = acc
            .create_plan(
                &demo,
                account,
                Frequency::Monthly,
                &schedule,
                "I authorize...",
                URL,
            )
            .await
            .unwrap();
        assert_eq!(
            acc.demo_complete(&setup.id, "4242424242424242")
                .await
                .unwrap(),
            DemoOutcome::Saved
        );
        accounts.push(account);
    }
    let due = today.and_hms_opt(16, 0, 0).unwrap().and_utc();
    h.clock.set(acc.clock().now().max(due));
    let passes: Vec<_> = (0..4)
        .map(|_| {
            let (acc, demo) = (acc.clone(), demo.clone());
            tokio::spawn(async move {
                let mut charged = 0;
                loop {
                    let (ok, failed) = acc.charge_due_instalments(&demo, 5).await.unwrap();
                    assert_eq!(failed, 0);
                    if ok == 0 {
                        return charged;
                    }
                    charged += ok;
                }
            })
        })
        .collect();
    let mut charged = 0;
    for p in passes {
        charged += p.await.unwrap();
    }
    assert_eq!(charged, 24, "each due instalment charged once in all");
    for account in accounts {
        let plan = acc.plan(account).await.unwrap().unwrap();
        let paid: Vec<_> = plan
            .instalments
            .iter()
            .filter(|i| i.status == "paid")
            .collect();
        assert_eq!(paid.len(), 1, "{:?}", plan.instalments);
        assert_eq!(paid[0].attempts, 0, "no failed attempt");
        assert_eq!(
            acc.balance(account).await.unwrap(),
            usd(91_250 - paid[0].amount.minor())
        );
    }
}

pub async fn a_new_card_fixes_a_failing_plan(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    acc.set_payment_terms(agency, "", &terms()).await.unwrap();
    let demo = DemoGateway::new(URL);
    let today = acc.clock().now().date_naive();
    let id = one_account(&acc, agency, "PLAN-4").await;
    let schedule = terms()
        .schedule(usd(91_250), Frequency::Monthly, 3, today, today)
        .unwrap();
    let (_, setup) = acc
        .create_plan(
            &demo,
            id,
            Frequency::Monthly,
            &schedule,
            "I authorize.",
            URL,
        )
        .await
        .unwrap();
    acc.demo_complete(&setup.id, "4000000000000341")
        .await
        .unwrap();
    assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (0, 1));
    // The debtor follows the message's link and saves another card: the instalment
    // waiting for its retry is charged at the next pass, not a day later.
    let checkout = acc.replace_plan_method(&demo, id, URL).await.unwrap();
    acc.demo_complete(&checkout.id, "4242424242424242")
        .await
        .unwrap();
    assert_eq!(acc.charge_due_instalments(&demo, 10).await.unwrap(), (1, 0));
    let plan = acc.plan(id).await.unwrap().unwrap();
    assert_eq!(plan.status, "active");
    assert_eq!(plan.instalments[0].status, "paid");
    assert_eq!(
        acc.balance(id).await.unwrap(),
        usd(91_250 - schedule[0].amount.minor())
    );
}

fn succeeded(n: u32, account: domain::AccountId, minor: i64) -> EventKind {
    EventKind::PaymentSucceeded {
        intent: format!("pi_{n}"),
        account,
        amount_minor: minor,
        payment_id: None,
        instalment_id: None,
    }
}

pub async fn the_same_event_delivered_in_parallel_applies_once(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "EVT-1").await;
    let event = ProcessorEvent {
        processor: "stripe".into(),
        event_id: "evt_1".into(),
        kind: succeeded(1, id, 1_000),
    };
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (acc, event) = (acc.clone(), event.clone());
            tokio::spawn(async move { acc.apply_event(&event).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for t in tasks {
        if t.await.unwrap() == Applied::Applied {
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    // Another event reporting the same payment (Checkout's completion) adds nothing.
    let other = ProcessorEvent {
        event_id: "evt_2".into(),
        ..event
    };
    assert_eq!(acc.apply_event(&other).await.unwrap(), Applied::Applied);
    assert_eq!(acc.balance(id).await.unwrap(), usd(90_250));
}

/// One payment's history at the processor: paid, partly refunded, maybe disputed and lost.
#[derive(Debug, Clone)]
struct History {
    amount: i64,
    refunds: Vec<i64>,
    dispute_lost: bool,
}

fn arb_histories() -> impl Strategy<Value = Vec<History>> {
    proptest::collection::vec(
        (
            1_000i64..20_000,
            proptest::collection::vec(1i64..500, 0..3),
            any::<bool>(),
        )
            .prop_map(|(amount, refunds, dispute_lost)| History {
                amount,
                refunds,
                dispute_lost,
            }),
        1..6,
    )
}

pub async fn webhook_events_in_any_order_and_repeated_converge(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let handle = tokio::runtime::Handle::current();
    let case = AtomicU32::new(0);
    tokio::task::block_in_place(|| {
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases: 16,
            failure_persistence: None,
            ..Default::default()
        });
        let strategy = (
            arb_histories(),
            proptest::collection::vec(1usize..=3, 64),
            any::<u64>(),
        );
        runner
            .run(&strategy, |(histories, copies, seed)| {
                handle.block_on(async {
                    let n = case.fetch_add(1, Ordering::SeqCst);
                    let id = one_account(&acc, agency, &format!("CONV-{n}")).await;
                    let mut events = Vec::new();
                    let mut expected = 91_250i64;
                    for (p, hist) in histories.iter().enumerate() {
                        let p = p as u32;
                        let ev = |k: String, kind| ProcessorEvent {
                            processor: "stripe".into(),
                            event_id: format!("evt_{n}_{k}"),
                            kind,
                        };
                        // Stripe reports a payment twice: the payment and the Checkout.
                        events.push(ev(format!("{p}_pi"), succeeded(p, id, hist.amount)));
                        events.push(ev(format!("{p}_cs"), succeeded(p, id, hist.amount)));
                        expected -= hist.amount;
                        for (r, amount) in hist.refunds.iter().enumerate() {
                            events.push(ev(
                                format!("{p}_re{r}"),
                                EventKind::Refunded {
                                    refund: format!("re_{n}_{p}_{r}"),
                                    account: id,
                                    amount_minor: *amount,
                                },
                            ));
                            expected += amount;
                        }
                        if hist.dispute_lost {
                            events.push(ev(
                                format!("{p}_dp"),
                                EventKind::ChargebackLost {
                                    dispute: format!("dp_{n}_{p}"),
                                    account: id,
                                    amount_minor: hist.amount,
                                },
                            ));
                            expected += hist.amount;
                        }
                    }
                    // Each event up to three times, in a shuffled order.
                    let mut deliveries: Vec<ProcessorEvent> = events
                        .iter()
                        .enumerate()
                        .flat_map(|(i, e)| std::iter::repeat_n(e.clone(), copies[i % copies.len()]))
                        .collect();
                    let mut state = seed | 1;
                    for i in (1..deliveries.len()).rev() {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        deliveries.swap(i, (state % (i as u64 + 1)) as usize);
                    }
                    for d in &deliveries {
                        acc.apply_event(d).await.unwrap();
                    }
                    prop_assert_eq!(acc.balance(id).await.unwrap().minor(), expected);
                    Ok(())
                })
            })
            .unwrap();
    });
}

pub async fn a_new_instalment_amount_recuts_the_rest_of_the_plan(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    acc.set_payment_terms(agency, "", &terms()).await.unwrap();
    let demo = DemoGateway::new(URL);
    let today = acc.clock().now().date_naive();
    let id = one_account(&acc, agency, "PLAN-3").await;
    let schedule = terms()
        .schedule(usd(91_250), Frequency::Monthly, 4, today, today)
        .unwrap();
    let (_, setup) = acc
        .create_plan(
            &demo,
            id,
            Frequency::Monthly,
            &schedule,
            "I authorize.",
            URL,
        )
        .await
        .unwrap();
    // Not before the plan is active.
    assert!(acc
        .change_instalment_amount(id, usd(30_000), "x")
        .await
        .is_err());
    acc.demo_complete(&setup.id, "4242424242424242")
        .await
        .unwrap();
    let new = acc
        .change_instalment_amount(id, usd(30_000), "Changed to $300.00.")
        .await
        .unwrap();
    let amounts: Vec<i64> = new.iter().map(|i| i.amount.minor()).collect();
    assert_eq!(amounts, [30_000, 30_000, 31_250]);
    let plan = acc.plan(id).await.unwrap().unwrap();
    let stored: Vec<(i64, i64)> = plan
        .instalments
        .iter()
        .map(|i| (i.seq, i.amount.minor()))
        .collect();
    assert_eq!(stored, [(1, 30_000), (2, 30_000), (3, 31_250)]);
    assert_eq!(plan.instalments[1].due, schedule[1].due);
    assert!(plan
        .authorization
        .ends_with("I authorize.\n\nChanged to $300.00."));
    // Outside the rules: below the smallest instalment, or more than what is left.
    assert!(acc
        .change_instalment_amount(id, usd(1_000), "x")
        .await
        .is_err());
    assert!(acc
        .change_instalment_amount(id, usd(100_000), "x")
        .await
        .is_err());
}
