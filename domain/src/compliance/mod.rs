//! The compliance engine: one pure function decides whether, when and with what words a
//! message may go out. No IO: the caller passes the facts, the history and "now".
//!
//! Standing facts (holds, consent, opt-outs) are checked first and make a `Deny`. Then the
//! clock rules (contact hours, the consumer's inconvenient times, frequency caps): if one
//! blocks now, the earliest instant within [`HORIZON_DAYS`] at which none blocks is found by
//! testing the instants where some rule stops blocking (a zone's 08:00, the end of a named
//! range, a counted message leaving its 7-day window): the allowed set is a union of
//! intervals that each start at one of those instants.

pub mod decision;
pub mod facts;
pub mod policy;
pub mod rules;
pub mod validation;
pub mod wire;
pub mod zones;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

pub use decision::{Decision, Finding, Reason, RequiredContent, Verdict};
pub use facts::{
    AreaCode, Channel, ChannelSet, ConsumerFacts, ContactEvent, ContactQuestion, DebtFacts,
    Direction, LocalRange, Purpose,
};
pub use policy::{Policy, PolicyError};
pub use validation::validation_period_end;

use rules::{content, frequency, holds, hours, inconvenient, media, reply};

/// How far ahead a deferred message's next allowed instant is searched; beyond it, `Deny`.
pub const HORIZON_DAYS: i64 = 8;

/// Decides whether the message described by `q` may go out at `now` under `policy`.
pub fn decide(q: &ContactQuestion, policy: &Policy, now: DateTime<Utc>) -> Decision {
    let mut standing = Vec::new();
    holds::check(q, &mut standing);
    media::check(q, now, &mut standing);
    if !standing.is_empty() {
        return Decision {
            verdict: Verdict::Deny,
            findings: standing,
            next_allowed_at: None,
            required_content: Vec::new(),
        };
    }
    let clock = ClockRules::new(q, policy, now);
    let blocking = clock.blocking(now);
    if blocking.is_empty() {
        return Decision {
            verdict: Verdict::Allow,
            findings: Vec::new(),
            next_allowed_at: None,
            required_content: content::required(q, now),
        };
    }
    let next = clock.next_opening(now);
    Decision {
        verdict: if next.is_some() {
            Verdict::Defer
        } else {
            Verdict::Deny
        },
        findings: blocking,
        next_allowed_at: next,
        required_content: Vec::new(),
    }
}

/// The time-dependent rules for one question, prepared once.
struct ClockRules<'a> {
    policy: &'a Policy,
    /// Empty when the message is exempt from the hour rules.
    zones: Vec<Tz>,
    ranges: &'a [LocalRange],
    caps: Vec<frequency::Cap>,
}

impl<'a> ClockRules<'a> {
    fn new(q: &'a ContactQuestion, policy: &'a Policy, now: DateTime<Utc>) -> Self {
        // Opt-out confirmations must go within minutes; replies to a fresh consumer message
        // go at the time the consumer chose.
        let exempt =
            q.purpose == Purpose::OptOutConfirmation || reply::exempt_from_clock(q, policy, now);
        let zones = if exempt {
            Vec::new()
        } else {
            zones::candidate_zones(&q.consumer)
        };
        let states: Vec<_> = zones::address_states(&q.consumer).collect();
        ClockRules {
            policy,
            zones,
            ranges: &q.consumer.inconvenient_times,
            caps: frequency::caps(q, policy, &states, now),
        }
    }

    fn blocking(&self, t: DateTime<Utc>) -> Vec<Finding> {
        let mut out = Vec::new();
        if hours::blocks(&self.zones, self.policy, t) {
            out.push(Finding {
                reason: Reason::QuietHours,
                citation: hours::CITATION,
            });
        }
        if inconvenient::blocks(&self.zones, self.ranges, t) {
            out.push(Finding {
                reason: Reason::ConsumerInconvenientTime,
                citation: inconvenient::CITATION,
            });
        }
        for cap in &self.caps {
            if cap.blocks(t) {
                out.push(cap.finding);
            }
        }
        out
    }

    fn blocked(&self, t: DateTime<Utc>) -> bool {
        hours::blocks(&self.zones, self.policy, t)
            || inconvenient::blocks(&self.zones, self.ranges, t)
            || self.caps.iter().any(|c| c.blocks(t))
    }

    fn next_opening(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let until = now + Duration::days(HORIZON_DAYS);
        let mut candidates = Vec::new();
        hours::openings(&self.zones, self.policy, now, until, &mut candidates);
        inconvenient::openings(&self.zones, self.ranges, now, until, &mut candidates);
        for cap in &self.caps {
            cap.openings(now, until, &mut candidates);
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter().find(|t| !self.blocked(*t))
    }
}

#[cfg(test)]
mod tests;
