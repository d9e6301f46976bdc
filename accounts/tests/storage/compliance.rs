//! The compliance engine's IO side: facts gathered from storage, decisions logged.

use accounts::disputes::{DisputeOrigin, DisputeReason, NewDispute};
use accounts::{ConsentChange, ContactPreferences, Error, HoldKind};
use chrono::{DateTime, NaiveTime, Utc};
use domain::compliance::{wire, Channel, ContactEvent, Direction, LocalRange, Policy, Purpose};
use domain::Actor;

use super::{agency, one_account, raw_execute, Harness};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The test account: phone 617 (Boston), MA address, SMS consent, told America/New_York.
/// The harness clock starts at 2026-11-23 15:00 UTC, 10:00 in Boston.
pub async fn decisions_are_logged_with_replayable_facts(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "CD-1").await;

    let first = acc
        .decide_contact(id, Channel::Sms, Purpose::ValidationNotice)
        .await
        .unwrap();
    assert_eq!(first.decision, "allow");
    assert_eq!(
        first.required_content,
        vec!["opt_out_notice", "mini_miranda_initial"]
    );
    acc.record_contact(
        id,
        &ContactEvent {
            at: t("2026-11-23T15:00:00Z"),
            channel: Channel::Sms,
            direction: Direction::Outbound,
            purpose: Purpose::ValidationNotice,
        },
    )
    .await
    .unwrap();

    // 21:30 in Boston: deferred to 08:00 the next morning.
    h.clock.set(t("2026-11-24T02:30:00Z"));
    let night = acc
        .decide_contact(id, Channel::Sms, Purpose::Reminder)
        .await
        .unwrap();
    assert_eq!(night.decision, "defer");
    assert_eq!(night.reasons, vec!["quiet_hours"]);
    assert_eq!(night.citations, vec!["12 CFR 1006.6(b)(1)(i)"]);
    assert_eq!(night.next_allowed_at, Some(t("2026-11-24T13:00:00Z")));

    let log = acc.decision_log(id, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0], night);
    assert_eq!(log[1].decision, "allow");
    // The logged facts are a dry-run question that gives the same answer again.
    let replay = wire::answer(
        serde_json::from_str(&night.facts).unwrap(),
        &Policy::default(),
    );
    assert_eq!(replay["decision"], "defer");
    assert_eq!(replay["next_allowed_at"], "2026-11-24T13:00:00Z");
    assert_eq!(replay["required_content"], serde_json::json!([]));
    let replay_first = wire::answer(
        serde_json::from_str(&log[1].facts).unwrap(),
        &Policy::default(),
    );
    assert_eq!(
        replay_first["required_content"],
        serde_json::json!(["opt_out_notice", "mini_miranda_initial"])
    );

    // Kept for 12 CFR 1006.100: the log refuses edits and deletes.
    for sql in [
        "UPDATE compliance_decisions SET decision = 'allow'",
        "DELETE FROM compliance_decisions",
    ] {
        let err = raw_execute(h, sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(acc.decision_log(id, 10).await.unwrap().len(), 2);
}

pub async fn holds_preferences_consent_and_policy_feed_the_engine(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "CD-2").await;
    let agent = Actor::AgencyUser(7);
    let decide = |ch, p| {
        let acc = acc.clone();
        async move { acc.decide_contact(id, ch, p).await.unwrap() }
    };

    // Holds: set, refused twice, lifted only with a reason.
    acc.set_hold(
        id,
        HoldKind::Attorney,
        "letter from counsel",
        Some("J. Doe, 555-0100"),
        &agent,
    )
    .await
    .unwrap();
    let held = decide(Channel::Sms, Purpose::Reminder).await;
    assert_eq!(
        (held.decision.as_str(), held.reasons.clone()),
        ("deny", vec!["attorney_represented".to_string()])
    );
    assert!(matches!(
        acc.set_hold(id, HoldKind::Attorney, "again", None, &agent)
            .await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        acc.clear_hold(id, HoldKind::Attorney, " ", &agent).await,
        Err(Error::Invalid(_))
    ));
    acc.clear_hold(id, HoldKind::Attorney, "attorney withdrew", &agent)
        .await
        .unwrap();
    assert!(acc.active_holds(id).await.unwrap().is_empty());
    assert_eq!(
        decide(Channel::Sms, Purpose::Reminder).await.decision,
        "allow"
    );

    // Opt-out: blocks the medium, one confirmation within 5 minutes, START restores it.
    acc.change_consent(id, Channel::Sms, ConsentChange::OptOut, "sms:STOP")
        .await
        .unwrap();
    let stopped = decide(Channel::Sms, Purpose::Reminder).await;
    assert_eq!(stopped.reasons, vec!["opted_out"]);
    let confirm = decide(Channel::Sms, Purpose::OptOutConfirmation).await;
    assert_eq!(confirm.decision, "allow");
    assert_eq!(confirm.required_content, vec!["mini_miranda_initial"]);
    acc.change_consent(id, Channel::Sms, ConsentChange::Consent, "sms:START")
        .await
        .unwrap();
    assert_eq!(
        decide(Channel::Sms, Purpose::Reminder).await.decision,
        "allow"
    );

    // Telegram needs its own consent (a bound chat).
    assert_eq!(
        decide(Channel::Telegram, Purpose::Reminder).await.reasons,
        vec!["no_consent"]
    );
    acc.change_consent(
        id,
        Channel::Telegram,
        ConsentChange::Consent,
        "telegram:bind",
    )
    .await
    .unwrap();
    assert_eq!(
        decide(Channel::Telegram, Purpose::Reminder).await.decision,
        "allow"
    );
    acc.change_consent(id, Channel::Telegram, ConsentChange::Refuse, "portal")
        .await
        .unwrap();
    assert_eq!(
        decide(Channel::Telegram, Purpose::Reminder).await.reasons,
        vec!["refused_channel"]
    );

    // Preferences: 09:00-12:00 is inconvenient; at 10:00 Boston time, wait until noon.
    let prefs = ContactPreferences {
        time_zone: None,
        inconvenient_times: vec![LocalRange::parse("09:00", "12:00").unwrap()],
    };
    acc.set_contact_preferences(id, &prefs).await.unwrap();
    assert_eq!(acc.contact_preferences(id).await.unwrap(), prefs);
    let busy = decide(Channel::Sms, Purpose::Reminder).await;
    assert_eq!(busy.reasons, vec!["consumer_inconvenient_time"]);
    assert_eq!(busy.next_allowed_at, Some(t("2026-11-23T17:00:00Z")));
    acc.set_contact_preferences(id, &ContactPreferences::default())
        .await
        .unwrap();

    // Policy: looser is refused; a later day start defers 10:00 to 11:00.
    let loose = Policy {
        texts_per_7_days: 9,
        ..Policy::default()
    };
    assert!(matches!(
        acc.set_agency_policy(agency, loose, &agent).await,
        Err(Error::Invalid(_))
    ));
    let strict = Policy {
        day_start: NaiveTime::from_hms_opt(11, 0, 0).unwrap(),
        ..Policy::default()
    };
    acc.set_agency_policy(agency, strict, &agent).await.unwrap();
    assert_eq!(acc.agency_policy(agency).await.unwrap(), strict);
    let early = decide(Channel::Sms, Purpose::Reminder).await;
    assert_eq!(early.next_allowed_at, Some(t("2026-11-23T16:00:00Z")));
}

pub async fn a_dispute_stops_reminders_but_not_receipts(h: &Harness) {
    let acc = h.accounts.clone();
    let agency = agency(&acc).await;
    let id = one_account(&acc, agency, "CD-3").await;
    acc.open_dispute(
        id,
        NewDispute::from_message(DisputeReason::NotMyDebt, "", DisputeOrigin::Sms),
    )
    .await
    .unwrap();
    let reminder = acc
        .decide_contact(id, Channel::Sms, Purpose::Reminder)
        .await
        .unwrap();
    assert_eq!(reminder.decision, "deny");
    assert_eq!(reminder.reasons, vec!["dispute_open"]);
    assert_eq!(reminder.citations, vec!["12 CFR 1006.38(d)(2)"]);
    let receipt = acc
        .decide_contact(id, Channel::Sms, Purpose::Receipt)
        .await
        .unwrap();
    assert_eq!(receipt.decision, "allow");
}
