//! How often: rolling 7-day caps on collection messages.
//!
//! - Calls: more than 7 in 7 days is a presumed violation (12 CFR 1006.14(b)(2)(i)).
//! - Texts and Telegram: Regulation F counts no texts, but "numerous" messages can still be
//!   harassment (12 CFR 1006.14(a)); the default policy allows 3 per 7 days.
//! - Massachusetts (940 CMR 7.04(1)(f)): at most 2 calls or texts per 7 days (Telegram
//!   messages are counted as texts).
//! - Washington (RCW 19.16.250): at most 3 communications per week, any medium.
//!
//! Only outbound `reminder` and `validation_notice` messages count and are capped; an
//! event at `t` counts until `t` + 7 days.

use chrono::{DateTime, Duration, Utc};

use super::super::decision::{Finding, Reason};
use super::super::facts::{Channel, ContactQuestion, Direction};
use super::super::policy::Policy;
use crate::UsState;

/// Citation of the call cap.
pub const CALLS: &str = "12 CFR 1006.14(b)(2)(i)";
/// Citation of the text and Telegram cap.
pub const TEXTS: &str = "12 CFR 1006.14(a)";
/// Citation of the Massachusetts cap.
pub const MASSACHUSETTS: &str = "940 CMR 7.04(1)(f)";
/// Citation of the Washington cap.
pub const WASHINGTON: &str = "RCW 19.16.250";

/// The rolling window.
pub fn window() -> Duration {
    Duration::days(7)
}

/// One cap that applies to the question: its limit and the counted send times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    /// Why it blocks.
    pub finding: Finding,
    limit: u32,
    times: Vec<DateTime<Utc>>,
}

impl Cap {
    /// True when `limit` or more counted messages fall in the 7 days before `t`.
    pub fn blocks(&self, t: DateTime<Utc>) -> bool {
        let since = t - window();
        let n = self.times.iter().filter(|x| **x > since).count();
        n >= self.limit as usize
    }

    /// Pushes the instants in (`after`, `until`] at which a counted message leaves the window.
    pub fn openings(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        out: &mut Vec<DateTime<Utc>>,
    ) {
        out.extend(
            self.times
                .iter()
                .map(|x| *x + window())
                .filter(|t| *t > after && *t <= until),
        );
    }
}

/// The caps that apply to this question. `states` are the states of the consumer's address.
pub fn caps(
    q: &ContactQuestion,
    policy: &Policy,
    states: &[UsState],
    now: DateTime<Utc>,
) -> Vec<Cap> {
    let mut caps = Vec::new();
    if !q.purpose.is_collection() {
        return caps;
    }
    let counted = |on: &dyn Fn(Channel) -> bool| -> Vec<DateTime<Utc>> {
        q.history
            .iter()
            .filter(|e| {
                e.direction == Direction::Outbound
                    && e.purpose.is_collection()
                    && e.at <= now
                    && now - e.at < window()
                    && on(e.channel)
            })
            .map(|e| e.at)
            .collect()
    };
    let mut add = |limit, reason, citation, on: &dyn Fn(Channel) -> bool| {
        caps.push(Cap {
            finding: Finding { reason, citation },
            limit,
            times: counted(on),
        });
    };
    let texting = |c: Channel| matches!(c, Channel::Sms | Channel::Telegram);
    match q.channel {
        Channel::Call => add(policy.calls_per_7_days, Reason::FrequencyCap, CALLS, &|c| {
            c == Channel::Call
        }),
        Channel::Sms | Channel::Telegram => add(
            policy.texts_per_7_days,
            Reason::FrequencyCap,
            TEXTS,
            &texting,
        ),
        Channel::Email => {}
    }
    if states.contains(&UsState::MA) && q.channel != Channel::Email {
        add(2, Reason::StateFrequencyCap, MASSACHUSETTS, &|c| {
            c != Channel::Email
        });
    }
    if states.contains(&UsState::WA) {
        add(3, Reason::StateFrequencyCap, WASHINGTON, &|_| true);
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::facts::{ConsumerFacts, ContactEvent, DebtFacts, Purpose};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sent(at: &str, channel: Channel, purpose: Purpose) -> ContactEvent {
        ContactEvent {
            at: t(at),
            channel,
            direction: Direction::Outbound,
            purpose,
        }
    }

    fn q(channel: Channel, history: Vec<ContactEvent>) -> ContactQuestion {
        ContactQuestion {
            channel,
            purpose: Purpose::Reminder,
            consumer: ConsumerFacts::default(),
            debt: DebtFacts::default(),
            history,
        }
    }

    fn blocked_by(q: &ContactQuestion, states: &[UsState], now: &str) -> Vec<&'static str> {
        caps(q, &Policy::default(), states, t(now))
            .into_iter()
            .filter(|c| c.blocks(t(now)))
            .map(|c| c.finding.citation)
            .collect()
    }

    #[test]
    fn three_texts_a_week_then_wait_for_the_oldest_to_age_out() {
        let history = vec![
            sent("2026-06-25T15:00:00Z", Channel::Sms, Purpose::Reminder),
            sent("2026-06-27T15:00:00Z", Channel::Telegram, Purpose::Reminder),
            sent(
                "2026-06-29T15:00:00Z",
                Channel::Sms,
                Purpose::ValidationNotice,
            ),
            sent("2026-06-30T15:00:00Z", Channel::Sms, Purpose::Receipt),
        ];
        let q = q(Channel::Sms, history);
        assert_eq!(blocked_by(&q, &[], "2026-07-01T15:00:00Z"), vec![TEXTS]);
        assert!(blocked_by(&q, &[], "2026-07-02T15:00:00Z").is_empty());
        let cap = &caps(&q, &Policy::default(), &[], t("2026-07-01T15:00:00Z"))[0];
        let mut out = vec![];
        cap.openings(
            t("2026-07-01T15:00:00Z"),
            t("2026-07-09T15:00:00Z"),
            &mut out,
        );
        assert_eq!(out[0], t("2026-07-02T15:00:00Z"));
    }

    #[test]
    fn seven_calls_in_seven_days() {
        let history: Vec<_> = (1..=7)
            .map(|d| {
                sent(
                    &format!("2026-06-2{d}T15:00:00Z"),
                    Channel::Call,
                    Purpose::Reminder,
                )
            })
            .collect();
        let q = q(Channel::Call, history);
        assert_eq!(blocked_by(&q, &[], "2026-06-27T16:00:00Z"), vec![CALLS]);
        assert!(blocked_by(&q, &[], "2026-06-28T15:00:00Z").is_empty());
    }

    #[test]
    fn massachusetts_counts_calls_and_texts_together() {
        let history = vec![
            sent("2026-06-28T15:00:00Z", Channel::Call, Purpose::Reminder),
            sent("2026-06-29T15:00:00Z", Channel::Sms, Purpose::Reminder),
        ];
        let q = q(Channel::Sms, history);
        assert_eq!(
            blocked_by(&q, &[UsState::MA], "2026-07-01T15:00:00Z"),
            vec![MASSACHUSETTS]
        );
        assert!(blocked_by(&q, &[UsState::NY], "2026-07-01T15:00:00Z").is_empty());
    }

    #[test]
    fn washington_counts_every_medium() {
        let history = vec![
            sent("2026-06-28T15:00:00Z", Channel::Email, Purpose::Reminder),
            sent("2026-06-29T15:00:00Z", Channel::Call, Purpose::Reminder),
            sent("2026-06-30T15:00:00Z", Channel::Sms, Purpose::Reminder),
        ];
        let q = q(Channel::Email, history);
        assert_eq!(
            blocked_by(&q, &[UsState::WA], "2026-07-01T15:00:00Z"),
            vec![WASHINGTON]
        );
    }
}
