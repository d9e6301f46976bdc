//! Times the consumer named as inconvenient, 12 CFR 1006.6(b)(1): a collector who knows
//! a time is inconvenient may not communicate then. The consumer names local times; with
//! several candidate zones the range is kept out in each of them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::super::facts::LocalRange;

/// The rule's citation.
pub const CITATION: &str = "12 CFR 1006.6(b)(1)";

/// True when `t` falls in a named range in any candidate zone.
pub fn blocks(zones: &[Tz], ranges: &[LocalRange], t: DateTime<Utc>) -> bool {
    !ranges.is_empty()
        && zones.iter().any(|z| {
            let local = t.with_timezone(z).time();
            ranges.iter().any(|r| r.contains(local))
        })
}

/// Pushes the instants in (`after`, `until`] at which a range ends in some zone.
pub fn openings(
    zones: &[Tz],
    ranges: &[LocalRange],
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    out: &mut Vec<DateTime<Utc>>,
) {
    for z in zones {
        for r in ranges {
            super::local_instants(*z, r.to(), after, until, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Chicago;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_lunch_break_is_kept_free() {
        let lunch = [LocalRange::parse("12:00", "14:00").unwrap()];
        // Chicago in July is UTC-5.
        assert!(!blocks(&[Chicago], &lunch, t("2026-07-01T16:59:00Z")));
        assert!(blocks(&[Chicago], &lunch, t("2026-07-01T17:00:00Z")));
        assert!(blocks(&[Chicago], &lunch, t("2026-07-01T18:59:00Z")));
        assert!(!blocks(&[Chicago], &lunch, t("2026-07-01T19:00:00Z")));
        let mut out = vec![];
        openings(
            &[Chicago],
            &lunch,
            t("2026-07-01T17:30:00Z"),
            t("2026-07-02T00:00:00Z"),
            &mut out,
        );
        assert_eq!(out, vec![t("2026-07-01T19:00:00Z")]);
    }

    #[test]
    fn an_overnight_range_wraps() {
        let nights = [LocalRange::parse("20:00", "10:00").unwrap()];
        assert!(blocks(&[Chicago], &nights, t("2026-07-01T14:59:00Z")));
        assert!(!blocks(&[Chicago], &nights, t("2026-07-01T15:00:00Z")));
        assert!(blocks(&[Chicago], &nights, t("2026-07-02T01:00:00Z")));
    }
}
