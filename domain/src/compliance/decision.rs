//! What the engine answers: a verdict, the reasons with their citations, when to try again,
//! and what the message must say.

use chrono::{DateTime, Utc};
use std::fmt;

/// Send now, later, or not until a fact changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Send now, with the required content.
    Allow,
    /// Not now; `next_allowed_at` is the earliest instant every rule allows.
    Defer,
    /// Not until a fact changes.
    Deny,
}

impl Verdict {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Defer => "defer",
            Verdict::Deny => "deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message may not go out. The order of the variants is the order reasons are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The consumer is deceased.
    Deceased,
    /// The consumer is in bankruptcy.
    Bankruptcy,
    /// An attorney represents the consumer.
    AttorneyRepresented,
    /// The consumer asked us to stop communicating.
    CeaseRequested,
    /// A dispute waits for verification.
    DisputeOpen,
    /// The consumer asked us not to use this medium.
    RefusedChannel,
    /// The consumer opted out of this medium.
    OptedOut,
    /// No consent for this electronic medium.
    NoConsent,
    /// Before 08:00 or from 21:00 local time somewhere the consumer may be.
    QuietHours,
    /// In a time range the consumer called inconvenient.
    ConsumerInconvenientTime,
    /// Federal or agency frequency limit reached.
    FrequencyCap,
    /// A state's frequency limit reached.
    StateFrequencyCap,
}

impl Reason {
    /// The stable reason code used on the wire and in the decision log.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Deceased => "deceased",
            Reason::Bankruptcy => "bankruptcy",
            Reason::AttorneyRepresented => "attorney_represented",
            Reason::CeaseRequested => "cease_requested",
            Reason::DisputeOpen => "dispute_open",
            Reason::RefusedChannel => "refused_channel",
            Reason::OptedOut => "opted_out",
            Reason::NoConsent => "no_consent",
            Reason::QuietHours => "quiet_hours",
            Reason::ConsumerInconvenientTime => "consumer_inconvenient_time",
            Reason::FrequencyCap => "frequency_cap",
            Reason::StateFrequencyCap => "state_frequency_cap",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A reason and the rule of law (or policy) behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Finding {
    /// The reason code.
    pub reason: Reason,
    /// Where the rule comes from.
    pub citation: &'static str,
}

/// Something an allowed message must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequiredContent {
    /// How to opt out ("Reply STOP to opt out"), 12 CFR 1006.6(e).
    OptOutNotice,
    /// "This is a communication from a debt collector attempting to collect a debt; any
    /// information obtained will be used for that purpose", 12 CFR 1006.18(e)(1).
    MiniMirandaInitial,
    /// "This is a communication from a debt collector", 12 CFR 1006.18(e)(2).
    MiniMirandaSubsequent,
}

impl RequiredContent {
    /// The wire name.
    pub fn code(self) -> &'static str {
        match self {
            RequiredContent::OptOutNotice => "opt_out_notice",
            RequiredContent::MiniMirandaInitial => "mini_miranda_initial",
            RequiredContent::MiniMirandaSubsequent => "mini_miranda_subsequent",
        }
    }
}

/// The engine's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow, defer or deny.
    pub verdict: Verdict,
    /// Every rule that blocks now (empty on allow).
    pub findings: Vec<Finding>,
    /// On defer, the earliest instant every rule allows.
    pub next_allowed_at: Option<DateTime<Utc>>,
    /// On allow, what the message must contain.
    pub required_content: Vec<RequiredContent>,
}

impl Decision {
    /// True when the message may go out now.
    pub fn allowed(&self) -> bool {
        self.verdict == Verdict::Allow
    }

    /// The reason codes, in order.
    pub fn reason_codes(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.reason.code()).collect()
    }

    /// The citations, one per reason, in order.
    pub fn citations(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.citation).collect()
    }
}
