//! Replies: when the consumer writes to us at an inconvenient time, one answer on the same
//! medium may go right away (comment 6(b)(1)-2 to 12 CFR 1006.6): the consumer chose the time.

use chrono::{DateTime, Duration, Utc};

use super::super::facts::{ContactQuestion, Direction, Purpose};
use super::super::policy::Policy;

/// True when this is a reply on the medium of a consumer message received within the
/// policy's reply window (default 10 minutes) before `now`.
pub fn exempt_from_clock(q: &ContactQuestion, policy: &Policy, now: DateTime<Utc>) -> bool {
    let window = Duration::minutes(i64::from(policy.reply_window_minutes));
    q.purpose == Purpose::Reply
        && q.history.iter().any(|e| {
            e.direction == Direction::Inbound
                && e.channel == q.channel
                && e.at <= now
                && now - e.at <= window
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::facts::{Channel, ConsumerFacts, ContactEvent, DebtFacts};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn question(purpose: Purpose, inbound: Channel) -> ContactQuestion {
        ContactQuestion {
            channel: Channel::Sms,
            purpose,
            consumer: ConsumerFacts::default(),
            debt: DebtFacts::default(),
            history: vec![ContactEvent {
                at: t("2026-07-02T03:00:00Z"),
                channel: inbound,
                direction: Direction::Inbound,
                purpose: Purpose::Reply,
            }],
        }
    }

    #[test]
    fn a_reply_within_ten_minutes_on_the_same_medium_is_exempt() {
        let p = Policy::default();
        let q = question(Purpose::Reply, Channel::Sms);
        assert!(exempt_from_clock(&q, &p, t("2026-07-02T03:10:00Z")));
        assert!(!exempt_from_clock(&q, &p, t("2026-07-02T03:10:01Z")));
        assert!(!exempt_from_clock(&q, &p, t("2026-07-02T02:59:00Z")));
        let other_medium = question(Purpose::Reply, Channel::Telegram);
        assert!(!exempt_from_clock(
            &other_medium,
            &p,
            t("2026-07-02T03:01:00Z")
        ));
        let reminder = question(Purpose::Reminder, Channel::Sms);
        assert!(!exempt_from_clock(&reminder, &p, t("2026-07-02T03:01:00Z")));
    }
}
