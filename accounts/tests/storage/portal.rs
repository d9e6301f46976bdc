//! The portal's backend: links, the identity check and its lockout, notice deliveries.

use accounts::portal::{LinkStatus, LinkToken, Verification, LOCKOUT_MINUTES};
use accounts::Clock;
use chrono::{Duration, NaiveDate};

use super::{agency, one_account, Harness};

fn dob() -> NaiveDate {
    NaiveDate::from_ymd_opt(1984, 2, 29).unwrap()
}

pub async fn links_expire_can_be_revoked_and_cannot_be_forged(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "PL-1").await;
    let other = one_account(&acc, agency, "PL-2").await;

    let link = acc.create_link(id, Duration::days(30)).await.unwrap();
    assert_eq!(
        link.token.expose().len(),
        12,
        "/l/ + 12 characters: 15 in the path"
    );
    assert_eq!(format!("{:?}", link.token), "LinkToken(***)");
    assert_eq!(
        acc.resolve_link(&link.token).await.unwrap(),
        LinkStatus::Valid(id)
    );
    let second = acc.create_link(other, Duration::days(30)).await.unwrap();
    assert_eq!(
        acc.resolve_link(&second.token).await.unwrap(),
        LinkStatus::Valid(other)
    );
    assert_ne!(link.token, second.token);

    // Forged: a random well-formed token, and malformed ones refused before any lookup.
    let forged = LinkToken::parse("AAAAAAAAAAAA").unwrap();
    assert_eq!(
        acc.resolve_link(&forged).await.unwrap(),
        LinkStatus::Unknown
    );
    for bad in ["short", "AAAAAAAAAAAAA", "AAAAAAAAAA/A", ""] {
        assert!(LinkToken::parse(bad).is_none(), "{bad}");
    }

    // Expiry: valid until the last instant, expired from then on.
    let start = h.clock.now();
    h.clock
        .set(start + Duration::days(30) - Duration::seconds(1));
    assert_eq!(
        acc.resolve_link(&link.token).await.unwrap(),
        LinkStatus::Valid(id)
    );
    h.clock.set(start + Duration::days(30));
    assert_eq!(
        acc.resolve_link(&link.token).await.unwrap(),
        LinkStatus::Expired
    );
    h.clock.set(start);

    acc.revoke_link(second.id).await.unwrap();
    assert_eq!(
        acc.resolve_link(&second.token).await.unwrap(),
        LinkStatus::Revoked
    );
    assert!(acc.revoke_link(second.id).await.is_err());
}

pub async fn five_wrong_answers_lock_the_check_for_fifteen_minutes(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "PV-1").await;
    let other = one_account(&acc, agency, "PV-2").await;
    let wrong = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();

    for remaining in (1..=4).rev() {
        assert_eq!(
            acc.verify_identity(id, wrong, "02134").await.unwrap(),
            Verification::Wrong { remaining }
        );
    }
    let start = h.clock.now();
    let until = start + Duration::minutes(LOCKOUT_MINUTES);
    assert_eq!(
        acc.verify_identity(id, dob(), "99999").await.unwrap(),
        Verification::Locked { until }
    );
    // Locked: even the right answers are refused; another account is not affected.
    assert_eq!(
        acc.verify_identity(id, dob(), "02134").await.unwrap(),
        Verification::Locked { until }
    );
    assert_eq!(
        acc.verify_identity(other, dob(), "02134").await.unwrap(),
        Verification::Verified
    );

    // After 15 minutes the check works again, with a fresh count.
    h.clock.set(until);
    assert_eq!(
        acc.verify_identity(id, wrong, "02134").await.unwrap(),
        Verification::Wrong { remaining: 4 }
    );
    assert_eq!(
        acc.verify_identity(id, dob(), " 02134").await.unwrap(),
        Verification::Verified
    );
    // Success resets the count.
    assert_eq!(
        acc.verify_identity(id, wrong, "02134").await.unwrap(),
        Verification::Wrong { remaining: 4 }
    );
    // Every check is in the timeline: four wrong, the locking one, one refused while
    // locked, then wrong, the visit, wrong.
    let checks: Vec<String> = acc
        .timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "identity")
        .map(|e| e.summary.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(
        checks,
        [
            "identity check failed",
            "identity check failed",
            "identity check failed",
            "identity check failed",
            "identity check failed",
            "identity check refused",
            "identity check failed",
            "identity confirmed",
            "identity check failed",
        ]
    );
    h.clock.set(start);
}

pub async fn the_first_notice_delivery_fixes_the_validation_period(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "PN-1").await;
    assert!(acc.notice_delivery(id).await.unwrap().is_none());
    assert!(acc.account_overview(id).await.unwrap().notice.is_none());
    let first = acc
        .record_notice_delivery(
            id,
            domain::Language::En,
            "I agree to receive notices electronically.",
        )
        .await
        .unwrap();
    // Delivered Monday 2026-11-23: 5 business days skip Thanksgiving (Thursday 26th).
    assert_eq!(
        first.validation_end,
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
    );
    h.clock.set(h.clock.now() + Duration::days(3));
    let again = acc
        .record_notice_delivery(id, domain::Language::Es, "Acepto.")
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(acc.notice_delivery(id).await.unwrap(), Some(first.clone()));

    // The account page's two-query overview agrees with the separate calls.
    let o = acc.account_overview(id).await.unwrap();
    assert_eq!(o.collector, "Acme Recovery");
    assert_eq!(o.balance, acc.balance(id).await.unwrap());
    assert_eq!(o.postings.len(), acc.postings(id).await.unwrap().len());
    assert_eq!(o.notice, Some(first));
    assert_eq!(o.record, acc.account(id).await.unwrap());
}

pub async fn contact_details_change_and_an_opt_out_survives_a_new_number(h: &Harness) {
    use accounts::ConsentChange;
    use domain::compliance::{Channel, Purpose};
    use domain::{Email, PhoneE164};
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "PL-9").await;
    acc.change_consent(id, Channel::Sms, ConsentChange::OptOut, "portal")
        .await
        .unwrap();

    let phone = PhoneE164::parse("(617) 555-0142").unwrap();
    let email = Email::parse("debtor@example.com").unwrap();
    acc.set_contact_details(id, Some(&phone), Some(&email))
        .await
        .unwrap();
    let account = acc.account(id).await.unwrap();
    assert_eq!(account.phone, Some(phone));
    assert_eq!(account.email, Some(email));
    let now = acc.clock().now();
    let (_, q) = acc
        .contact_question(id, Channel::Sms, Purpose::Reminder, now)
        .await
        .unwrap();
    assert!(q.consumer.opted_out.contains(Channel::Sms));

    acc.set_contact_details(id, None, None).await.unwrap();
    let account = acc.account(id).await.unwrap();
    assert_eq!((account.phone, account.email), (None, None));

    acc.change_consent(id, Channel::Sms, ConsentChange::Consent, "portal")
        .await
        .unwrap();
    let (_, q) = acc
        .contact_question(id, Channel::Sms, Purpose::Reminder, now)
        .await
        .unwrap();
    assert!(!q.consumer.opted_out.contains(Channel::Sms));
}

/// The migration that gave links their lookup key.
const BEFORE_LOOKUP_KEY: i64 = 16;
/// The token of the link made before it.
const OLD_TOKEN: &str = "0ldL1nk-t0k3";

/// A database as it stood before links got their lookup key: an account and a link to it,
/// stored by the whole digest only.
fn rows_before_lookup_key() -> Vec<String> {
    use sha2::{Digest, Sha256};
    let digest = format!("{:x}", Sha256::digest(OLD_TOKEN.as_bytes()));
    vec![
        "INSERT INTO agencies (id, slug, name, created_at)
         VALUES (1, 'old', 'Old Agency', '2026-11-01T00:00:00Z')"
            .into(),
        "INSERT INTO accounts (id, agency_id, account_ref, creditor, currency, first_name,
            last_name, date_of_birth, address_line1, city, state, postal_code, language,
            sms_consent, time_barred, itemization_date, balance_at_itemization, interest_since,
            fees_since, payments_since, credits_since, placed_amount, placed_at)
         VALUES (7, 1, 'OLD-1', 'Acme', 'USD', 'Ana', 'Old', '1980-01-01', '1 Main St',
            'Austin', 'TX', '78701', 'en', TRUE, FALSE, '2026-11-01', 1000, 0, 0, 0, 0, 1000,
            '2026-11-01T00:00:00Z')"
            .into(),
        format!(
            "INSERT INTO portal_links (account_id, token_hash, created_at, expires_at)
             VALUES (7, '{digest}', '2026-11-20T00:00:00Z', '2026-12-20T00:00:00Z')"
        ),
    ]
}

/// `migrator` cut to the migrations before the lookup key.
fn before_lookup_key(mut migrator: sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version < BEFORE_LOOKUP_KEY)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    migrator
}

/// After the upgrade the old link opens, and a forged token still does not.
async fn old_link_opens_after_upgrade(url: &str) {
    let acc = accounts::Accounts::open(url, super::clock()).await.unwrap();
    let token = LinkToken::parse(OLD_TOKEN).unwrap();
    assert_eq!(
        acc.resolve_link(&token).await.unwrap(),
        LinkStatus::Valid(domain::AccountId(7))
    );
    let forged = LinkToken::parse("0ldL1nk-t0k4").unwrap();
    assert_eq!(
        acc.resolve_link(&forged).await.unwrap(),
        LinkStatus::Unknown
    );
    acc.close().await;
}

/// Brings `$pool` to the schema before the lookup key (migrations from `$dir`) and stores
/// the old rows, then closes it.
macro_rules! store_before_lookup_key {
    ($pool:expr, $dir:literal) => {{
        let pool = $pool;
        before_lookup_key(sqlx::migrate!($dir))
            .run(&pool)
            .await
            .unwrap();
        for sql in rows_before_lookup_key() {
            sqlx::query(&sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }};
}

/// Links made before migration 16 get their lookup key from their stored digest (the
/// migration's own hex arithmetic on SQLite, a bit cast on PostgreSQL) and keep working.
#[tokio::test]
async fn a_link_made_before_the_lookup_key_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("old.db").display());
    let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    store_before_lookup_key!(
        sqlx::SqlitePool::connect_with(options).await.unwrap(),
        "../migrations/sqlite"
    );
    old_link_opens_after_upgrade(&url).await;

    let Some((admin, schema, url)) = super::scratch_schema().await else {
        return;
    };
    store_before_lookup_key!(
        sqlx::PgPool::connect(&url).await.unwrap(),
        "../migrations/postgres"
    );
    old_link_opens_after_upgrade(&url).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
