//! What the engine is told: the medium, the purpose, the consumer, the debt and the history.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::{PostalCode, UsState};

/// A medium a message can go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A text message to a phone.
    Sms,
    /// A Telegram chat the consumer bound to the account.
    Telegram,
    /// An email.
    Email,
    /// A telephone call.
    Call,
}

impl Channel {
    /// Every channel, in a stable order.
    pub const ALL: [Channel; 4] = [
        Channel::Sms,
        Channel::Telegram,
        Channel::Email,
        Channel::Call,
    ];

    /// True for media that reach an electronic address (12 CFR 1006.6(e) applies to them).
    pub fn is_electronic(self) -> bool {
        !matches!(self, Channel::Call)
    }

    /// The wire name (`sms`, `telegram`, `email`, `call`).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Telegram => "telegram",
            Channel::Email => "email",
            Channel::Call => "call",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a channel (sms, telegram, email, call)"))
    }
}

/// A set of channels (consented, opted out, refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ChannelSet(u8);

impl ChannelSet {
    /// The empty set.
    pub const EMPTY: ChannelSet = ChannelSet(0);

    /// True when `channel` is in the set.
    pub fn contains(self, channel: Channel) -> bool {
        self.0 & channel.bit() != 0
    }

    /// Adds `channel`.
    pub fn insert(&mut self, channel: Channel) {
        self.0 |= channel.bit();
    }

    /// The channels in the set, in `Channel::ALL` order.
    pub fn iter(self) -> impl Iterator<Item = Channel> {
        Channel::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Channel> for ChannelSet {
    fn from_iter<I: IntoIterator<Item = Channel>>(iter: I) -> Self {
        let mut set = ChannelSet::EMPTY;
        for c in iter {
            set.insert(c);
        }
        set
    }
}

/// Why a message is sent: decides which holds and caps apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A collection reminder.
    Reminder,
    /// The validation notice (12 CFR 1006.34) or a link to it.
    ValidationNotice,
    /// A receipt for a payment the consumer made.
    Receipt,
    /// An answer to a message the consumer sent.
    Reply,
    /// The one confirmation of an opt-out (47 CFR 64.1200(a)(10)).
    OptOutConfirmation,
    /// The confirmation that collection communication stops (12 CFR 1006.6(c)(2)).
    CeaseConfirmation,
    /// The notice that the answer to a dispute is waiting (12 CFR 1006.38(d)(2)): not
    /// collection, so an open dispute does not hold it back.
    DisputeResponse,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 7] = [
        Purpose::Reminder,
        Purpose::ValidationNotice,
        Purpose::Receipt,
        Purpose::Reply,
        Purpose::OptOutConfirmation,
        Purpose::CeaseConfirmation,
        Purpose::DisputeResponse,
    ];

    /// Collection messages: held by a dispute, counted and capped by the frequency rules.
    pub fn is_collection(self) -> bool {
        matches!(self, Purpose::Reminder | Purpose::ValidationNotice)
    }

    /// Confirmations of a consumer's stop request, which holds do not block.
    pub fn is_confirmation(self) -> bool {
        matches!(
            self,
            Purpose::OptOutConfirmation | Purpose::CeaseConfirmation
        )
    }

    /// The wire name (`reminder`, `validation_notice`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Reminder => "reminder",
            Purpose::ValidationNotice => "validation_notice",
            Purpose::Receipt => "receipt",
            Purpose::Reply => "reply",
            Purpose::OptOutConfirmation => "opt_out_confirmation",
            Purpose::CeaseConfirmation => "cease_confirmation",
            Purpose::DisputeResponse => "dispute_response",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a purpose"))
    }
}

/// Who sent a message in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// We sent it.
    Outbound,
    /// The consumer sent it.
    Inbound,
}

impl Direction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

/// One message in the contact history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactEvent {
    /// When it was sent (an electronic message counts when sent, not when read).
    pub at: DateTime<Utc>,
    /// Its medium.
    pub channel: Channel,
    /// Who sent it.
    pub direction: Direction,
    /// Why it was sent (inbound messages: `reply` or anything; only direction matters).
    pub purpose: Purpose,
}

/// A North American area code (NPA), `200`..=`999` with a first digit 2-9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AreaCode(u16);

impl AreaCode {
    /// Reads the area code of a `+1` number written in E.164 (`+1NPANXXXXXX`). Other
    /// countries' numbers give `Ok(None)`: they say nothing about US time zones.
    pub fn of_e164(phone: &str) -> Result<Option<AreaCode>, String> {
        let bad = || format!("`{phone}` is not an E.164 phone number");
        let digits = phone.strip_prefix('+').ok_or_else(bad)?;
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let Some(national) = digits.strip_prefix('1') else {
            return Ok(None);
        };
        let b = national.as_bytes();
        if b.len() != 10 || b[0] < b'2' || b[3] < b'2' {
            return Err(bad());
        }
        Ok(Some(AreaCode(national[..3].parse().map_err(|_| bad())?)))
    }

    /// The three digits as a number.
    pub fn get(self) -> u16 {
        self.0
    }
}

/// A daily range of local wall-clock time, `from` inclusive, `to` exclusive; wraps past
/// midnight when `from` is later than `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalRange {
    from: NaiveTime,
    to: NaiveTime,
}

impl LocalRange {
    /// A range; refuses an empty one (`from == to`).
    pub fn new(from: NaiveTime, to: NaiveTime) -> Result<Self, String> {
        if from == to {
            return Err(format!("time range {from}-{to} is empty"));
        }
        Ok(LocalRange { from, to })
    }

    /// Parses `HH:MM` bounds.
    pub fn parse(from: &str, to: &str) -> Result<Self, String> {
        let t = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("`{s}` is not HH:MM"))
        };
        LocalRange::new(t(from)?, t(to)?)
    }

    /// Start (inclusive).
    pub fn from(self) -> NaiveTime {
        self.from
    }

    /// End (exclusive).
    pub fn to(self) -> NaiveTime {
        self.to
    }

    /// True when the wall-clock time `t` falls in the range.
    pub fn contains(self, t: NaiveTime) -> bool {
        if self.from < self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

/// What we know about the consumer. Unknown facts are `None`, empty or false.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumerFacts {
    /// Area code of the phone we would use, when it is a +1 number.
    pub area_code: Option<AreaCode>,
    /// State of the postal address.
    pub state: Option<UsState>,
    /// ZIP code of the postal address.
    pub postal_code: Option<PostalCode>,
    /// A time zone the consumer told us; when set, it alone decides local time.
    pub time_zone: Option<Tz>,
    /// Times the consumer said are inconvenient (12 CFR 1006.6(b)(1)).
    pub inconvenient_times: Vec<LocalRange>,
    /// Media the consumer asked us not to use (12 CFR 1006.14(h)).
    pub refused_channels: ChannelSet,
    /// Media the consumer consented to.
    pub consented: ChannelSet,
    /// Media the consumer opted out of.
    pub opted_out: ChannelSet,
    /// When the consumer opted out of the medium asked about.
    pub opted_out_at: Option<DateTime<Utc>>,
    /// We know an attorney represents the consumer on this debt.
    pub attorney_represented: bool,
    /// The consumer asked us in writing to stop communicating.
    pub cease_requested: bool,
    /// The consumer is in bankruptcy.
    pub bankruptcy: bool,
    /// The consumer is deceased.
    pub deceased: bool,
}

/// What we know about the debt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DebtFacts {
    /// A dispute or original-creditor request is waiting for our answer.
    pub dispute_open: bool,
}

/// One question: may this message go out now?
#[derive(Debug, Clone, PartialEq)]
pub struct ContactQuestion {
    /// The medium.
    pub channel: Channel,
    /// Why we would send it.
    pub purpose: Purpose,
    /// The consumer's facts.
    pub consumer: ConsumerFacts,
    /// The debt's facts.
    pub debt: DebtFacts,
    /// Earlier messages about this debt, both directions, any order.
    pub history: Vec<ContactEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_codes_come_only_from_valid_nanp_numbers() {
        assert_eq!(
            AreaCode::of_e164("+16175550123").unwrap().unwrap().get(),
            617
        );
        assert_eq!(AreaCode::of_e164("+442071234567").unwrap(), None);
        assert!(AreaCode::of_e164("6175550123").is_err());
        assert!(AreaCode::of_e164("+11175550123").is_err());
        assert!(AreaCode::of_e164("+1617555012").is_err());
        assert!(AreaCode::of_e164("+1617055a123").is_err());
    }

    #[test]
    fn ranges_wrap_midnight_and_exclude_their_end() {
        let r = LocalRange::parse("22:00", "06:00").unwrap();
        let t = |s| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        assert!(r.contains(t("23:30")) && r.contains(t("00:00")) && r.contains(t("05:59")));
        assert!(!r.contains(t("06:00")) && !r.contains(t("21:59")));
        let r = LocalRange::parse("12:00", "14:00").unwrap();
        assert!(r.contains(t("12:00")) && !r.contains(t("14:00")));
        assert!(LocalRange::parse("12:00", "12:00").is_err());
        assert!(LocalRange::parse("25:00", "12:00").is_err());
    }

    #[test]
    fn channel_sets_hold_what_was_inserted() {
        let set: ChannelSet = [Channel::Sms, Channel::Call].into_iter().collect();
        assert!(set.contains(Channel::Sms) && set.contains(Channel::Call));
        assert!(!set.contains(Channel::Email));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Channel::Sms, Channel::Call]
        );
    }
}
