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
