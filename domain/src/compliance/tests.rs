//! The whole engine: rules combined, and properties over random consumers.

use super::*;
use crate::{PostalCode, UsState};
use chrono::{NaiveTime, TimeZone};
use proptest::prelude::*;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn consumer(phone: &str, state: UsState) -> ConsumerFacts {
    ConsumerFacts {
        area_code: AreaCode::of_e164(phone).unwrap(),
        state: Some(state),
        consented: [Channel::Sms, Channel::Telegram, Channel::Email]
            .into_iter()
            .collect(),
        ..ConsumerFacts::default()
    }
}

fn question(channel: Channel, purpose: Purpose, consumer: ConsumerFacts) -> ContactQuestion {
    ContactQuestion {
        channel,
        purpose,
        consumer,
        debt: DebtFacts::default(),
        history: vec![],
    }
}

fn sent(at: DateTime<Utc>, channel: Channel) -> ContactEvent {
    ContactEvent {
        at,
        channel,
        direction: Direction::Outbound,
        purpose: Purpose::Reminder,
    }
}

#[test]
fn eastern_phone_pacific_address_waits_for_eleven_eastern() {
    let q = question(
        Channel::Sms,
        Purpose::Reminder,
        consumer("+16175550123", UsState::CA),
    );
    // 10:00 Eastern = 07:00 Pacific in July.
    let d = decide(&q, &Policy::default(), t("2026-07-01T14:00:00Z"));
    assert_eq!(d.verdict, Verdict::Defer);
    assert_eq!(d.reason_codes(), vec!["quiet_hours"]);
    assert_eq!(d.next_allowed_at, Some(t("2026-07-01T15:00:00Z")));
    assert!(decide(&q, &Policy::default(), t("2026-07-01T15:00:00Z")).allowed());
}

#[test]
fn standing_facts_deny_without_a_time() {
    let mut c = consumer("+16175550123", UsState::MA);
    c.attorney_represented = true;
    let q = question(Channel::Sms, Purpose::Reminder, c);
    let d = decide(&q, &Policy::default(), t("2026-07-02T03:00:00Z"));
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.reason_codes(), vec!["attorney_represented"]);
    assert_eq!(d.next_allowed_at, None);
}

#[test]
fn a_cap_and_the_night_together_defer_to_the_first_morning_after_the_cap() {
    // Three texts, the oldest at 16:00Z June 24; it leaves the window at 16:00Z July 1
    // (12:00 in Boston) — but the consumer asked for no contact 11:00-13:00.
    let mut c = consumer("+16175550123", UsState::NY);
    c.inconvenient_times = vec![LocalRange::parse("11:00", "13:00").unwrap()];
    let mut q = question(Channel::Sms, Purpose::Reminder, c);
    q.history = vec![
        sent(t("2026-06-24T16:00:00Z"), Channel::Sms),
        sent(t("2026-06-26T16:00:00Z"), Channel::Sms),
        sent(t("2026-06-28T16:00:00Z"), Channel::Telegram),
    ];
    let d = decide(&q, &Policy::default(), t("2026-07-01T02:00:00Z"));
    assert_eq!(d.verdict, Verdict::Defer);
    assert_eq!(d.reason_codes(), vec!["quiet_hours", "frequency_cap"]);
    assert_eq!(d.next_allowed_at, Some(t("2026-07-01T17:00:00Z")));
}

#[test]
fn a_range_covering_the_whole_day_denies() {
    let mut c = consumer("+13125550123", UsState::IL);
    c.inconvenient_times = vec![LocalRange::parse("07:00", "22:00").unwrap()];
    let q = question(Channel::Call, Purpose::Reminder, c);
    let d = decide(&q, &Policy::default(), t("2026-07-01T17:00:00Z"));
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.reason_codes(), vec!["consumer_inconvenient_time"]);
}

#[test]
fn a_stricter_agency_policy_narrows_the_day() {
    let policy = Policy {
        day_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        ..Policy::default()
    }
    .validate()
    .unwrap();
    let q = question(
        Channel::Call,
        Purpose::Reminder,
        consumer("+13125550123", UsState::IL),
    );
    // 08:30 in Chicago.
    let d = decide(&q, &policy, t("2026-07-01T13:30:00Z"));
    assert_eq!(d.next_allowed_at, Some(t("2026-07-01T14:00:00Z")));
}

#[test]
fn a_zip_alone_places_the_consumer() {
    let c = ConsumerFacts {
        postal_code: Some(PostalCode::parse("96910").unwrap()),
        consented: [Channel::Sms].into_iter().collect(),
        ..ConsumerFacts::default()
    };
    let q = question(Channel::Sms, Purpose::Reminder, c);
    // 18:00Z is 04:00 on Guam; its day starts at 22:00Z.
    let d = decide(&q, &Policy::default(), t("2026-07-01T18:00:00Z"));
    assert_eq!(d.next_allowed_at, Some(t("2026-07-01T22:00:00Z")));
}

const AREA_CODES: &[&str] = &[
    "617", "212", "312", "303", "602", "213", "907", "808", "787", "671", "684", "915", "208",
    "270", "850", "219", "541", "775",
];
const TOLD: &[Tz] = &[
    chrono_tz::America::New_York,
    chrono_tz::America::Phoenix,
    chrono_tz::Pacific::Guam,
    chrono_tz::America::Adak,
];

fn arb_consumer() -> impl Strategy<Value = ConsumerFacts> {
    (
        prop::option::of(prop::sample::select(AREA_CODES)),
        prop::option::of(prop::sample::select(UsState::ALL)),
        prop::option::weighted(0.2, prop::sample::select(TOLD)),
        prop::collection::vec((0u32..24 * 4, 1u32..8 * 4), 0..3),
    )
        .prop_map(|(npa, state, told, ranges)| ConsumerFacts {
            area_code: npa.and_then(|n| AreaCode::of_e164(&format!("+1{n}5550123")).unwrap()),
            state,
            time_zone: told,
            inconvenient_times: ranges
                .into_iter()
                .map(|(start, len)| {
                    let at =
                        |q: u32| NaiveTime::from_hms_opt((q / 4) % 24, (q % 4) * 15, 0).unwrap();
                    LocalRange::new(at(start), at(start + len)).unwrap()
                })
                .collect(),
            consented: [Channel::Sms, Channel::Telegram].into_iter().collect(),
            ..ConsumerFacts::default()
        })
}

fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2026-01-01 .. 2028-01-01, to the minute.
    (0i64..2 * 365 * 24 * 60).prop_map(|m| t("2026-01-01T00:00:00Z") + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn an_allowed_instant_is_inside_the_day_everywhere_the_consumer_may_be(
        c in arb_consumer(), now in arb_instant()
    ) {
        let zones = zones::candidate_zones(&c);
        let q = question(Channel::Sms, Purpose::Reminder, c);
        let d = decide(&q, &Policy::default(), now);
        if d.allowed() {
            for z in zones {
                let local = z.from_utc_datetime(&now.naive_utc()).time();
                prop_assert!(local >= NaiveTime::from_hms_opt(8, 0, 0).unwrap(), "{z} {local}");
                prop_assert!(local < NaiveTime::from_hms_opt(21, 0, 0).unwrap(), "{z} {local}");
                for r in &q.consumer.inconvenient_times {
                    prop_assert!(!r.contains(local));
                }
            }
        }
    }

    #[test]
    fn next_allowed_at_is_allowed_and_nothing_earlier_is(
        c in arb_consumer(),
        now in arb_instant(),
        ago in prop::collection::vec(0i64..8 * 24 * 60, 0..5),
    ) {
        let mut q = question(Channel::Telegram, Purpose::Reminder, c);
        q.history = ago.iter().map(|m| sent(now - Duration::minutes(*m), Channel::Sms)).collect();
        let policy = Policy::default();
        let d = decide(&q, &policy, now);
        match d.verdict {
            Verdict::Allow => prop_assert!(d.findings.is_empty()),
            Verdict::Deny => prop_assert!(d.next_allowed_at.is_none()),
            Verdict::Defer => {
                let next = d.next_allowed_at.unwrap();
                prop_assert!(next > now);
                prop_assert!(next <= now + Duration::days(HORIZON_DAYS));
                let again = decide(&q, &policy, next);
                prop_assert_eq!(again.verdict, Verdict::Allow, "re-asked at {}: {:?}", next, again);
                let before = next - Duration::seconds(1);
                if before > now {
                    prop_assert!(!decide(&q, &policy, before).allowed());
                }
            }
        }
    }

    #[test]
    fn the_validation_period_is_thirty_days_after_five_business_days(
        days in 0i64..3650
    ) {
        let sent_on = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(days);
        let end = validation_period_end(sent_on);
        let receipt = end - Duration::days(30);
        prop_assert!(validation::is_business_day(receipt));
        let business = sent_on.iter_days().skip(1).take_while(|d| *d <= receipt)
            .filter(|d| validation::is_business_day(*d)).count();
        prop_assert_eq!(business, 5);
    }
}
