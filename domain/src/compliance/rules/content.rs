//! What an allowed message must say.
//!
//! - 12 CFR 1006.6(e): every electronic message carries a clear way to opt out (not the
//!   opt-out confirmation itself, which answers one).
//! - 12 CFR 1006.18(e): the initial communication says it is from a debt collector trying
//!   to collect a debt and that information will be used for that purpose; later ones say
//!   they are from a debt collector.

use chrono::{DateTime, Utc};

use super::super::decision::RequiredContent;
use super::super::facts::{ContactQuestion, Direction, Purpose};

/// The required content of this question's message if it goes out at `now`.
pub fn required(q: &ContactQuestion, now: DateTime<Utc>) -> Vec<RequiredContent> {
    let mut out = Vec::with_capacity(2);
    if q.channel.is_electronic() && q.purpose != Purpose::OptOutConfirmation {
        out.push(RequiredContent::OptOutNotice);
    }
    let earlier = q
        .history
        .iter()
        .any(|e| e.direction == Direction::Outbound && e.at <= now);
    out.push(if earlier {
        RequiredContent::MiniMirandaSubsequent
    } else {
        RequiredContent::MiniMirandaInitial
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::facts::{Channel, ConsumerFacts, ContactEvent, DebtFacts};
    use RequiredContent::*;

    fn q(channel: Channel, purpose: Purpose, history: Vec<ContactEvent>) -> ContactQuestion {
        ContactQuestion {
            channel,
            purpose,
            consumer: ConsumerFacts::default(),
            debt: DebtFacts::default(),
            history,
        }
    }

    #[test]
    fn the_first_message_gets_the_initial_disclosure_and_later_ones_the_short_one() {
        let now: DateTime<Utc> = "2026-07-01T15:00:00Z".parse().unwrap();
        let first = q(Channel::Sms, Purpose::ValidationNotice, vec![]);
        assert_eq!(
            required(&first, now),
            vec![OptOutNotice, MiniMirandaInitial]
        );
        let inbound_only = q(
            Channel::Call,
            Purpose::Reply,
            vec![ContactEvent {
                at: "2026-07-01T14:00:00Z".parse().unwrap(),
                channel: Channel::Sms,
                direction: Direction::Inbound,
                purpose: Purpose::Reply,
            }],
        );
        assert_eq!(required(&inbound_only, now), vec![MiniMirandaInitial]);
        let later = q(
            Channel::Email,
            Purpose::Reminder,
            vec![ContactEvent {
                at: "2026-06-01T14:00:00Z".parse().unwrap(),
                channel: Channel::Call,
                direction: Direction::Outbound,
                purpose: Purpose::Reminder,
            }],
        );
        assert_eq!(
            required(&later, now),
            vec![OptOutNotice, MiniMirandaSubsequent]
        );
        let confirm = q(
            Channel::Sms,
            Purpose::OptOutConfirmation,
            later.history.clone(),
        );
        assert_eq!(required(&confirm, now), vec![MiniMirandaSubsequent]);
    }
}
