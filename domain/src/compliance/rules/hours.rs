//! Contact hours, 12 CFR 1006.6(b)(1)(i): before 08:00 and after 21:00 local time are
//! inconvenient unless we know otherwise. When the consumer may be in several zones, the
//! message must fall inside the window in every one of them (an Eastern area code with a
//! Pacific address gives 11:00-21:00 Eastern).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::super::policy::Policy;

/// The rule's citation.
pub const CITATION: &str = "12 CFR 1006.6(b)(1)(i)";

/// True when `t` is outside [day_start, day_end) in any candidate zone.
pub fn blocks(zones: &[Tz], policy: &Policy, t: DateTime<Utc>) -> bool {
    zones.iter().any(|z| {
        let local = t.with_timezone(z).time();
        local < policy.day_start || local >= policy.day_end
    })
}

/// Pushes the instants in (`after`, `until`] at which a zone's day starts: the only places
/// where this rule can stop blocking.
pub fn openings(
    zones: &[Tz],
    policy: &Policy,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    out: &mut Vec<DateTime<Utc>>,
) {
    for z in zones {
        super::local_instants(*z, policy.day_start, after, until, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::{Los_Angeles, New_York};
    use chrono_tz::Pacific::Guam;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_is_eight_to_nine_local_time() {
        let p = Policy::default();
        // 2026-07-01 is in daylight time: New York is UTC-4.
        assert!(blocks(&[New_York], &p, t("2026-07-01T11:59:59Z")));
        assert!(!blocks(&[New_York], &p, t("2026-07-01T12:00:00Z")));
        assert!(!blocks(&[New_York], &p, t("2026-07-02T00:59:59Z")));
        assert!(blocks(&[New_York], &p, t("2026-07-02T01:00:00Z")));
        // In January New York is UTC-5.
        assert!(blocks(&[New_York], &p, t("2026-01-15T12:30:00Z")));
        assert!(!blocks(&[New_York], &p, t("2026-01-15T13:00:00Z")));
    }

    #[test]
    fn every_candidate_zone_must_be_inside() {
        let p = Policy::default();
        // 10:30 Eastern is 07:30 Pacific: blocked; 11:00 Eastern is 08:00 Pacific.
        let zones = [New_York, Los_Angeles];
        assert!(blocks(&zones, &p, t("2026-07-01T14:30:00Z")));
        assert!(!blocks(&zones, &p, t("2026-07-01T15:00:00Z")));
        // A fixed 18:00 UTC send lands at 04:00 on Guam.
        assert!(blocks(&[Guam], &p, t("2026-07-01T18:00:00Z")));
    }

    #[test]
    fn openings_are_local_day_starts() {
        let p = Policy::default();
        let mut out = vec![];
        openings(
            &[New_York, Los_Angeles],
            &p,
            t("2026-07-01T02:00:00Z"),
            t("2026-07-02T02:00:00Z"),
            &mut out,
        );
        out.sort();
        assert_eq!(
            out,
            vec![t("2026-07-01T12:00:00Z"), t("2026-07-01T15:00:00Z")]
        );
    }
}
