//! An agency's contact policy: the legal defaults, which an agency may only make stricter.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// The limits the engine applies. `Policy::default()` is the law (and the project's
/// defaults where the law gives none); agencies may tighten each field, never loosen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Earliest local time of day (12 CFR 1006.6(b)(1)(i): 08:00).
    pub day_start: NaiveTime,
    /// Local time from which contact stops (12 CFR 1006.6(b)(1)(i): 21:00).
    pub day_end: NaiveTime,
    /// Collection texts and Telegram messages per rolling 7 days (default 3).
    pub texts_per_7_days: u32,
    /// Calls per rolling 7 days (12 CFR 1006.14(b)(2)(i): 7).
    pub calls_per_7_days: u32,
    /// Minutes after a consumer's message during which a reply ignores the clock rules (10).
    pub reply_window_minutes: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            day_start: NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"),
            day_end: NaiveTime::from_hms_opt(21, 0, 0).expect("valid time"),
            texts_per_7_days: 3,
            calls_per_7_days: 7,
            reply_window_minutes: 10,
        }
    }
}

/// A policy setting looser than the law or the defaults.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(String);

impl Policy {
    /// Accepts the policy only if every field is at least as strict as the default.
    pub fn validate(self) -> Result<Policy, PolicyError> {
        let law = Policy::default();
        let mut problems = Vec::new();
        if self.day_start < law.day_start {
            problems.push(format!(
                "day_start may not be earlier than {}",
                law.day_start
            ));
        }
        if self.day_end > law.day_end {
            problems.push(format!("day_end may not be later than {}", law.day_end));
        }
        if self.day_start >= self.day_end {
            problems.push("day_start must be before day_end".to_string());
        }
        if self.texts_per_7_days > law.texts_per_7_days {
            problems.push(format!(
                "texts_per_7_days may not exceed {}",
                law.texts_per_7_days
            ));
        }
        if self.calls_per_7_days > law.calls_per_7_days {
            problems.push(format!(
                "calls_per_7_days may not exceed {}",
                law.calls_per_7_days
            ));
        }
        if self.reply_window_minutes > law.reply_window_minutes {
            problems.push(format!(
                "reply_window_minutes may not exceed {}",
                law.reply_window_minutes
            ));
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(PolicyError(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stricter_policies_pass_and_looser_ones_are_refused() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        assert!(Policy::default().validate().is_ok());
        let strict = Policy {
            day_start: t(9),
            day_end: t(20),
            texts_per_7_days: 2,
            calls_per_7_days: 3,
            reply_window_minutes: 5,
        };
        assert_eq!(strict.validate(), Ok(strict));
        let loose = Policy {
            day_start: t(7),
            day_end: t(22),
            texts_per_7_days: 4,
            ..Policy::default()
        };
        let err = loose.validate().unwrap_err().to_string();
        assert!(err.contains("day_start") && err.contains("day_end"));
        assert!(err.contains("texts_per_7_days"));
        let inverted = Policy {
            day_start: t(20),
            day_end: t(9),
            ..Policy::default()
        };
        assert!(inverted.validate().is_err());
    }
}
