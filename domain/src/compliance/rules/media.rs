//! The medium: refused by the consumer, opted out of, or used without consent.

use chrono::{DateTime, Duration, Utc};

use super::super::decision::{Finding, Reason};
use super::super::facts::{ContactQuestion, Direction, Purpose};

/// A consumer may ask that a medium not be used (12 CFR 1006.14(h)).
pub const REFUSED: &str = "12 CFR 1006.14(h)";
/// An opt-out on a medium blocks it (12 CFR 1006.6(e); the FCC's 2025 revocation rule,
/// 47 CFR 64.1200(a)(10), which allows one confirmation within 5 minutes).
pub const OPTED_OUT: &str = "12 CFR 1006.6(e); 47 CFR 64.1200(a)(10)";
/// Texts need prior express consent (TCPA); email and other electronic addresses the
/// consumer's consent (12 CFR 1006.6(d)(4) safe harbor).
pub const NO_CONSENT: &str = "47 U.S.C. 227(b)(1)(A); 12 CFR 1006.6(d)(4)";

/// How long after an opt-out its one confirmation may go.
pub fn confirmation_window() -> Duration {
    Duration::minutes(5)
}

/// True when this is the one opt-out confirmation still allowed: within 5 minutes of the
/// opt-out, and none sent on that medium since.
pub fn confirmation_allowed(q: &ContactQuestion, now: DateTime<Utc>) -> bool {
    let Some(at) = q.consumer.opted_out_at else {
        return false;
    };
    now >= at
        && now - at <= confirmation_window()
        && !q.history.iter().any(|e| {
            e.direction == Direction::Outbound
                && e.channel == q.channel
                && e.purpose == Purpose::OptOutConfirmation
                && e.at >= at
        })
}

/// The medium rules that block this question's message, in reason order.
pub fn check(q: &ContactQuestion, now: DateTime<Utc>, out: &mut Vec<Finding>) {
    let c = &q.consumer;
    let opted_out = c.opted_out.contains(q.channel);
    // The one opt-out confirmation is the only message an opt-out still allows, and it
    // answers the consumer's own request, so consent and refusal do not apply to it.
    let confirming =
        q.purpose == Purpose::OptOutConfirmation && opted_out && confirmation_allowed(q, now);
    if c.refused_channels.contains(q.channel) && !confirming {
        out.push(Finding {
            reason: Reason::RefusedChannel,
            citation: REFUSED,
        });
    }
    if opted_out && !confirming {
        out.push(Finding {
            reason: Reason::OptedOut,
            citation: OPTED_OUT,
        });
    }
    if q.channel.is_electronic() && !c.consented.contains(q.channel) && !confirming {
        out.push(Finding {
            reason: Reason::NoConsent,
            citation: NO_CONSENT,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::facts::{Channel, ChannelSet, ConsumerFacts, ContactEvent, DebtFacts};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn q(channel: Channel, purpose: Purpose, consumer: ConsumerFacts) -> ContactQuestion {
        ContactQuestion {
            channel,
            purpose,
            consumer,
            debt: DebtFacts::default(),
            history: vec![],
        }
    }

    fn reasons(q: &ContactQuestion, now: &str) -> Vec<Reason> {
        let mut out = vec![];
        check(q, t(now), &mut out);
        out.into_iter().map(|f| f.reason).collect()
    }

    #[test]
    fn electronic_media_need_consent_and_calls_do_not() {
        let none = ConsumerFacts::default();
        for ch in [Channel::Sms, Channel::Telegram, Channel::Email] {
            let q = q(ch, Purpose::Reminder, none.clone());
            assert_eq!(reasons(&q, "2026-07-01T15:00:00Z"), vec![Reason::NoConsent]);
        }
        let call = q(Channel::Call, Purpose::Reminder, none);
        assert!(reasons(&call, "2026-07-01T15:00:00Z").is_empty());
    }

    #[test]
    fn one_opt_out_confirmation_within_five_minutes() {
        let c = ConsumerFacts {
            consented: [Channel::Sms].into_iter().collect(),
            opted_out: [Channel::Sms].into_iter().collect(),
            opted_out_at: Some(t("2026-07-01T15:00:00Z")),
            ..ConsumerFacts::default()
        };
        let mut confirm = q(Channel::Sms, Purpose::OptOutConfirmation, c.clone());
        assert!(reasons(&confirm, "2026-07-01T15:05:00Z").is_empty());
        assert_eq!(
            reasons(&confirm, "2026-07-01T15:05:01Z"),
            vec![Reason::OptedOut]
        );
        confirm.history.push(ContactEvent {
            at: t("2026-07-01T15:01:00Z"),
            channel: Channel::Sms,
            direction: Direction::Outbound,
            purpose: Purpose::OptOutConfirmation,
        });
        assert_eq!(
            reasons(&confirm, "2026-07-01T15:02:00Z"),
            vec![Reason::OptedOut]
        );
        let reminder = q(Channel::Sms, Purpose::Reminder, c);
        assert_eq!(
            reasons(&reminder, "2026-07-01T15:01:00Z"),
            vec![Reason::OptedOut]
        );
    }

    #[test]
    fn a_refused_medium_is_blocked_even_with_consent() {
        let c = ConsumerFacts {
            consented: [Channel::Email].into_iter().collect(),
            refused_channels: [Channel::Email].into_iter().collect::<ChannelSet>(),
            ..ConsumerFacts::default()
        };
        let q = q(Channel::Email, Purpose::Receipt, c);
        assert_eq!(
            reasons(&q, "2026-07-01T15:00:00Z"),
            vec![Reason::RefusedChannel]
        );
    }
}
