//! The storage suite: the same stories run on a real SQLite file and, when
//! `SETTLE_TEST_DATABASE_URL` is set, on a real PostgreSQL server (each test in its own schema).
//! With `SETTLE_REQUIRE_POSTGRES=1` (set by the test script) a missing server is a failure.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use accounts::import::RowError;
use accounts::{Accounts, Engine, FixedClock, PostResult};
use chrono::{TimeZone, Utc};
use domain::{
    AccountId, AccountRef, Actor, AgencyId, Currency, IdempotencyKey, Money, Posting, PostingKind,
};
use proptest::prelude::*;

struct Harness {
    accounts: Accounts,
    clock: Arc<FixedClock>,
    url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(sqlx::PgPool, String)>,
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap(),
    ))
}

static SCHEMA_NO: AtomicU32 = AtomicU32::new(0);

/// A fresh schema on the test PostgreSQL server: the admin pool, its name, and a URL whose
/// connections work in it. `None` when no server is configured (and not required).
async fn scratch_schema() -> Option<(sqlx::PgPool, String, String)> {
    let Ok(base) = std::env::var("SETTLE_TEST_DATABASE_URL") else {
        if std::env::var("SETTLE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("SETTLE_REQUIRE_POSTGRES=1 but SETTLE_TEST_DATABASE_URL is not set");
        }
        eprintln!("skipped: SETTLE_TEST_DATABASE_URL is not set");
        return None;
    };
    let schema = format!(
        "t{}_{}",
        std::process::id(),
        SCHEMA_NO.fetch_add(1, Ordering::SeqCst)
    );
    let admin = sqlx::PgPool::connect(&base)
        .await
        .expect("PostgreSQL reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    Some((admin, schema, url))
}

impl Harness {
    async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("settle.db").display());
        let clock = clock();
        let accounts = Accounts::open(&url, clock.clone()).await.unwrap();
        assert_eq!(accounts.engine(), Engine::Sqlite);
        Harness {
            accounts,
            clock,
            url,
            _dir: Some(dir),
            schema: None,
        }
    }

    async fn postgres() -> Option<Harness> {
        let (admin, schema, url) = scratch_schema().await?;
        let clock = clock();
        let accounts = Accounts::open(&url, clock.clone()).await.unwrap();
        assert_eq!(accounts.engine(), Engine::Postgres);
        Some(Harness {
            accounts,
            clock,
            url,
            _dir: None,
            schema: Some((admin, schema)),
        })
    }

    async fn finish(self) {
        self.accounts.close().await;
        if let Some((admin, schema)) = self.schema {
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&admin)
                .await
                .unwrap();
        }
    }
}

macro_rules! storage_suite {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let h = super::Harness::sqlite().await;
                    super::$story(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if let Some(h) = super::Harness::postgres().await {
                        super::$story(&h).await;
                        h.finish().await;
                    }
                }
            )*
        }
    };
}

storage_suite!(
    migrations_run_once_and_are_current,
    import_reports_bad_rows_and_keeps_good_ones,
    reimport_changes_nothing,
    import_refuses_file_without_required_columns,
    account_round_trips_as_domain_types,
    ledger_posts_once_per_key,
    concurrent_retries_post_once,
    ledger_property_balance_is_sum_of_postings,
    postings_are_append_only,
    demo_seed_creates_agency_and_accounts_once,
    decisions_are_logged_with_replayable_facts,
    holds_preferences_consent_and_policy_feed_the_engine,
    a_dispute_stops_reminders_but_not_receipts,
    links_expire_can_be_revoked_and_cannot_be_forged,
    five_wrong_answers_lock_the_check_for_fifteen_minutes,
    the_first_notice_delivery_fixes_the_validation_period,
    contact_details_change_and_an_opt_out_survives_a_new_number,
    terms_checkout_and_demo_payment_post_once,
    a_paid_settlement_writes_off_the_rest,
    plans_charge_retry_break_and_move,
    parallel_charge_passes_charge_each_instalment_once,
    the_same_event_delivered_in_parallel_applies_once,
    webhook_events_in_any_order_and_repeated_converge,
    a_new_instalment_amount_recuts_the_rest_of_the_plan,
    a_new_card_fixes_a_failing_plan,
    a_cadence_queues_each_step_once_with_its_decision,
    quiet_hours_defer_and_holds_deny_with_a_logged_reason,
    the_outbox_sends_at_most_once,
    parallel_runs_produce_each_message_once,
    replies_are_understood_acted_on_and_answered,
    payment_messages_are_decided_and_queued_once,
    queued_messages_are_rechecked_at_their_turn_and_cancelled_by_new_facts,
    a_message_that_never_arrived_does_not_count_as_the_first_contact,
    telegram_links_bind_once_and_a_blocked_chat_hands_reminders_back,
    a_dispute_holds_reminders_and_charges_until_its_answer_is_delivered,
    duplicates_corrections_closures_and_cease,
    nobody_reads_another_accounts_dispute,
    agency_users_sign_in_lock_and_never_leak_a_hash,
    the_console_imports_finds_notes_adjusts_and_audits,
    reports_count_the_range_and_credit_self_service,
    the_inbox_assigns_answers_through_the_engine_and_closes,
    rules_per_creditor_are_checked_applied_and_audited,
    api_keys_are_hashed_scoped_and_revocable,
    api_placements_are_checked_like_file_rows,
    events_fan_out_to_webhooks_and_retry_until_delivered,
    two_step_sign_in_takes_each_code_once_and_shares_the_lock,
    cadence_changes_from_the_console_are_checked_and_audited,
    a_creditor_with_its_own_cadence_gets_its_own_steps_and_texts,
);

#[path = "storage/api.rs"]
mod api;
#[path = "storage/compliance.rs"]
mod compliance;
#[path = "storage/console.rs"]
mod console;
#[path = "storage/disputes.rs"]
mod disputes;
#[path = "storage/messaging.rs"]
mod messaging;
#[path = "storage/payments.rs"]
mod payments;
#[path = "storage/portal.rs"]
mod portal;
#[path = "storage/settings.rs"]
mod settings;
#[path = "storage/telegram.rs"]
mod telegram;
use api::{
    api_keys_are_hashed_scoped_and_revocable, api_placements_are_checked_like_file_rows,
    events_fan_out_to_webhooks_and_retry_until_delivered,
};
use compliance::{
    a_dispute_stops_reminders_but_not_receipts, decisions_are_logged_with_replayable_facts,
    holds_preferences_consent_and_policy_feed_the_engine,
};
use console::{
    reports_count_the_range_and_credit_self_service,
    rules_per_creditor_are_checked_applied_and_audited,
    the_console_imports_finds_notes_adjusts_and_audits,
    the_inbox_assigns_answers_through_the_engine_and_closes,
};
use disputes::{
    a_dispute_holds_reminders_and_charges_until_its_answer_is_delivered,
    agency_users_sign_in_lock_and_never_leak_a_hash, duplicates_corrections_closures_and_cease,
    nobody_reads_another_accounts_dispute,
};
use messaging::{
    a_cadence_queues_each_step_once_with_its_decision,
    a_message_that_never_arrived_does_not_count_as_the_first_contact,
    parallel_runs_produce_each_message_once, payment_messages_are_decided_and_queued_once,
    queued_messages_are_rechecked_at_their_turn_and_cancelled_by_new_facts,
    quiet_hours_defer_and_holds_deny_with_a_logged_reason,
    replies_are_understood_acted_on_and_answered, the_outbox_sends_at_most_once,
};
use payments::{
    a_new_card_fixes_a_failing_plan, a_new_instalment_amount_recuts_the_rest_of_the_plan,
    a_paid_settlement_writes_off_the_rest, parallel_charge_passes_charge_each_instalment_once,
    plans_charge_retry_break_and_move, terms_checkout_and_demo_payment_post_once,
    the_same_event_delivered_in_parallel_applies_once,
    webhook_events_in_any_order_and_repeated_converge,
};
use portal::{
    contact_details_change_and_an_opt_out_survives_a_new_number,
    five_wrong_answers_lock_the_check_for_fifteen_minutes,
    links_expire_can_be_revoked_and_cannot_be_forged,
    the_first_notice_delivery_fixes_the_validation_period,
};
use settings::{
    a_creditor_with_its_own_cadence_gets_its_own_steps_and_texts,
    cadence_changes_from_the_console_are_checked_and_audited,
    two_step_sign_in_takes_each_code_once_and_shares_the_lock,
};
use telegram::telegram_links_bind_once_and_a_blocked_chat_hands_reminders_back;

const HEADER: &str = "account_ref,creditor,first_name,last_name,date_of_birth,phone,email,address_line1,city,state,postal_code,itemization_date,balance_at_itemization,interest_since,fees_since,payments_since,credits_since,current_balance,time_zone,language,sms_consent";

fn good_row(r: &str) -> String {
    format!("{r},Acme Medical,Ana,Pérez,1984-02-29,(617) 555-0142,ana@example.com,1 Main St,Boston,MA,02134,2026-01-31,1000.00,12.50,0,100.00,0,912.50,America/New_York,es,yes")
}

async fn import(
    acc: &Accounts,
    agency: AgencyId,
    csv: String,
) -> (accounts::import::ImportReport, Vec<RowError>) {
    let mut errors = Vec::new();
    let report = acc
        .import_placements(
            agency,
            "test.csv",
            std::io::Cursor::new(csv.into_bytes()),
            |e| errors.push(e.clone()),
        )
        .await
        .unwrap();
    (report, errors)
}

async fn agency(acc: &Accounts) -> AgencyId {
    acc.ensure_agency("acme", "Acme Recovery").await.unwrap().id
}

/// A console user of `agency` named after `email`, whose password is
/// `a long password for <email>`.
async fn user(
    acc: &Accounts,
    agency: AgencyId,
    email: &str,
    role: accounts::users::Role,
) -> accounts::users::AgencyUser {
    acc.create_user(
        agency,
        email,
        &format!("User {email}"),
        role,
        &format!("a long password for {email}"),
    )
    .await
    .unwrap()
}

async fn one_account(acc: &Accounts, agency: AgencyId, r: &str) -> AccountId {
    let (report, errors) = import(acc, agency, format!("{HEADER}\n{}\n", good_row(r))).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(report.imported, 1);
    acc.account_by_ref(agency, &AccountRef::parse(r).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Runs SQL on the harness's database outside the backend, as a careless operator would.
async fn raw_execute(h: &Harness, sql: &str) -> Result<(), sqlx::Error> {
    if h.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&h.url).await?;
        sqlx::query(sql).execute(&pool).await.map(|_| ())
    } else {
        let pool = sqlx::PgPool::connect(&h.url).await?;
        sqlx::query(sql).execute(&pool).await.map(|_| ())
    }
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD).unwrap()
}

fn posting(kind: PostingKind, minor: i64, key: &str) -> Posting {
    Posting::new(
        kind,
        usd(minor),
        IdempotencyKey::parse(key).unwrap(),
        Actor::Debtor,
        "test",
    )
    .unwrap()
}

async fn migrations_run_once_and_are_current(h: &Harness) {
    let acc = h.accounts.clone();
    assert!(acc.migrations_current().await.unwrap());
    assert_eq!(acc.migrate().await.unwrap(), 0);
}

async fn import_reports_bad_rows_and_keeps_good_ones(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let csv = [
        HEADER.to_string(),
        good_row("A-1"),                                     // line 2
        good_row("A-2").replace("912.50", "900.00"),         // line 3: arithmetic
        good_row("A-3").replace("1000.00", "ten dollars"),   // line 4: amount
        good_row("A-4").replace(",Ana,", ",,"),              // line 5: missing first name
        good_row("A-1"),                                     // line 6: duplicate of line 2
        good_row("A-5").replace("(617) 555-0142", "555"),    // line 7: phone
        good_row("A-6"),                                     // line 8
        "A-7,Acme".to_string(),                              // line 9: short row
        good_row("A-8").replace("1984-02-29", "1984-02-30"), // line 10: no such date
    ]
    .join("\n");
    let (report, errors) = import(&acc, agency, csv).await;
    assert_eq!(report.rows, 9);
    assert_eq!(report.imported, 2);
    assert_eq!(report.rejected, 7);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 7, 9, 10, 6]);
    let reason = |line: u64| {
        errors
            .iter()
            .find(|e| e.line == line)
            .unwrap()
            .reason
            .clone()
    };
    assert!(reason(3).contains("does not equal"), "{}", reason(3));
    assert!(
        reason(4).contains("balance_at_itemization"),
        "{}",
        reason(4)
    );
    assert!(
        reason(5).contains("first_name is required"),
        "{}",
        reason(5)
    );
    assert!(
        reason(6).contains("duplicate account_ref (first on line 2)"),
        "{}",
        reason(6)
    );
    assert!(reason(7).contains("phone"), "{}", reason(7));
    assert!(reason(9).contains("required"), "{}", reason(9));
    assert!(reason(10).contains("1984-02-30"), "{}", reason(10));
    assert_eq!(acc.count_accounts(agency).await.unwrap(), 2);
    let a1 = acc
        .account_by_ref(agency, &AccountRef::parse("A-1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acc.balance(a1.id).await.unwrap(), usd(91_250));
}

async fn reimport_changes_nothing(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let csv = [
        HEADER.to_string(),
        good_row("R-1"),
        good_row("R-2"),
        good_row("R-2"),
        good_row("R-3"),
    ]
    .join("\n");
    let (first, first_errors) = import(&acc, agency, csv.clone()).await;
    assert_eq!((first.imported, first.unchanged, first.rejected), (3, 0, 1));
    let r1 = acc
        .account_by_ref(agency, &AccountRef::parse("R-1").unwrap())
        .await
        .unwrap()
        .unwrap();
    let postings_before = acc.postings(r1.id).await.unwrap();
    let (second, second_errors) = import(&acc, agency, csv).await;
    assert_eq!(
        (second.imported, second.unchanged, second.rejected),
        (0, 3, 1)
    );
    // The file's duplicate row is still a bad row, reported again with the same reason.
    assert_eq!(first_errors, second_errors);
    assert_eq!(acc.count_accounts(agency).await.unwrap(), 3);
    assert_eq!(acc.postings(r1.id).await.unwrap(), postings_before);
    assert_ne!(first.run_id, second.run_id);
}

async fn import_refuses_file_without_required_columns(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let err = acc
        .import_placements(
            agency,
            "x.csv",
            std::io::Cursor::new(b"account_ref,creditor\nA,B\n".to_vec()),
            |_| {},
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("lacks required column") && msg.contains("current_balance"),
        "{msg}"
    );
    assert_eq!(acc.count_accounts(agency).await.unwrap(), 0);
}

async fn account_round_trips_as_domain_types(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "RT-1").await;
    let a = acc.account(id).await.unwrap();
    assert_eq!(a.account_ref.as_str(), "RT-1");
    assert_eq!(a.name.last(), "Pérez");
    assert_eq!(a.phone.unwrap().as_str(), "+16175550142");
    assert_eq!(a.email.unwrap().as_str(), "ana@example.com");
    assert_eq!(a.address.state(), domain::UsState::MA);
    assert_eq!(a.address.postal_code().zip5(), "02134");
    assert_eq!(a.time_zone, Some(chrono_tz::America::New_York));
    assert_eq!(a.language, domain::Language::Es);
    assert!(a.sms_consent);
    assert_eq!(a.itemization.interest_since(), usd(1_250));
    assert_eq!(a.itemization.payments_since(), usd(10_000));
    assert_eq!(a.itemization.current(), usd(91_250));
    assert_eq!(a.date_of_birth.date().to_string(), "1984-02-29");
    assert_eq!(
        a.placed_at,
        Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
    );
    assert!(acc.account(AccountId(999_999)).await.is_err());
}

async fn ledger_posts_once_per_key(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "L-1").await;
    let pay = posting(PostingKind::Payment, -2_500, "stripe:pi_1");
    assert!(matches!(
        acc.post(id, &pay).await.unwrap(),
        PostResult::Posted(_)
    ));
    assert!(matches!(
        acc.post(id, &pay).await.unwrap(),
        PostResult::Duplicate(_)
    ));
    assert_eq!(acc.balance(id).await.unwrap(), usd(91_250 - 2_500));
    let conflicting = posting(PostingKind::Payment, -9_999, "stripe:pi_1");
    assert!(matches!(
        acc.post(id, &conflicting).await,
        Err(accounts::Error::Ledger(
            domain::ledger::LedgerError::KeyConflict(_)
        ))
    ));
    let euros = Posting::new(
        PostingKind::Fee,
        Money::from_minor(100, Currency::EUR).unwrap(),
        IdempotencyKey::parse("fee-eur").unwrap(),
        Actor::System("test".into()),
        "",
    )
    .unwrap();
    assert!(acc.post(id, &euros).await.is_err());
    let kinds: Vec<PostingKind> = acc
        .postings(id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.posting.kind())
        .collect();
    assert_eq!(kinds, vec![PostingKind::Placement, PostingKind::Payment]);
    assert_eq!(acc.balance(id).await.unwrap(), usd(88_750));
}

async fn concurrent_retries_post_once(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "C-1").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let acc = acc.clone();
        tasks.push(tokio::spawn(async move {
            acc.post(id, &posting(PostingKind::Payment, -1_000, "retry-me"))
                .await
                .unwrap()
        }));
    }
    let mut posted = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), PostResult::Posted(_)) {
            posted += 1;
        }
    }
    assert_eq!(posted, 1);
    assert_eq!(acc.balance(id).await.unwrap(), usd(91_250 - 1_000));
}

fn arb_postings() -> impl Strategy<Value = Vec<(usize, i64, bool, u8)>> {
    proptest::collection::vec((0usize..8, 1i64..500_000, any::<bool>(), 0u8..8), 1..20)
}

async fn ledger_property_balance_is_sum_of_postings(h: &Harness) {
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
        runner
            .run(&arb_postings(), |seq| {
                handle.block_on(async {
                    let n = case.fetch_add(1, Ordering::SeqCst);
                    let id = one_account(&acc, agency, &format!("P-{n}")).await;
                    let mut expected = 91_250i64;
                    for (k, magnitude, negative, key_no) in seq {
                        let kind = PostingKind::ALL[k];
                        let signed = match kind.sign() {
                            domain::ledger::Sign::Positive => magnitude,
                            domain::ledger::Sign::Negative => -magnitude,
                            domain::ledger::Sign::NonZero if negative => -magnitude,
                            domain::ledger::Sign::NonZero => magnitude,
                        };
                        let p = posting(kind, signed, &format!("k{key_no}"));
                        let before = acc.balance(id).await.unwrap();
                        match acc.post(id, &p).await {
                            Ok(PostResult::Posted(_)) => expected += signed,
                            Ok(PostResult::Duplicate(_)) | Err(accounts::Error::Ledger(_)) => {
                                prop_assert_eq!(acc.balance(id).await.unwrap(), before)
                            }
                            Err(e) => return Err(TestCaseError::fail(e.to_string())),
                        }
                        let balance = acc.balance(id).await.unwrap();
                        // Posting the same key again never changes the balance.
                        let _ = acc.post(id, &p).await;
                        prop_assert_eq!(acc.balance(id).await.unwrap(), balance);
                        let sum: i64 = acc
                            .postings(id)
                            .await
                            .unwrap()
                            .iter()
                            .map(|s| s.posting.amount().minor())
                            .sum();
                        prop_assert_eq!(balance.minor(), sum);
                        prop_assert_eq!(balance.minor(), expected);
                    }
                    Ok(())
                })
            })
            .unwrap();
    });
}

async fn postings_are_append_only(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "AO-1").await;
    for sql in [
        format!("UPDATE postings SET amount = 1 WHERE account_id = {}", id.0),
        format!("DELETE FROM postings WHERE account_id = {}", id.0),
    ] {
        let err = raw_execute(h, &sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(acc.balance(id).await.unwrap(), usd(91_250));
}

async fn demo_seed_creates_agency_and_accounts_once(h: &Harness) {
    let acc = h.accounts.clone();
    let report = acc.seed_demo().await.unwrap().expect("seeded");
    assert_eq!(report.imported, 36);
    assert_eq!(report.rejected, 0);
    let demo = acc.agency_by_slug("demo").await.unwrap().unwrap();
    assert_eq!(acc.count_accounts(demo.id).await.unwrap(), 36);
    let ma = acc
        .account_by_ref(demo.id, &AccountRef::parse("DEMO-1001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ma.address.state(), domain::UsState::MA);
    let disputed = acc
        .account_by_ref(demo.id, &AccountRef::parse("DEMO-1002").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acc.open_disputes(disputed.id).await.unwrap(), 1);
    assert!(acc.seed_demo().await.unwrap().is_none());
    assert_eq!(acc.count_accounts(demo.id).await.unwrap(), 36);
}
