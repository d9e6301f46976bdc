//! The ledger: every change of what a debtor owes is an append-only posting; the balance is
//! derived from the postings, and an idempotency key makes a repeated posting a no-op.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};

/// What a posting records. The sign of its amount follows from the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PostingKind {
    /// The debt as placed with the agency (positive).
    Placement,
    /// Interest charged (positive).
    Interest,
    /// A fee charged (positive).
    Fee,
    /// Money received from the debtor (negative).
    Payment,
    /// A payment given back to the debtor, so owed again (positive).
    Refund,
    /// A payment reversed by the card network or bank (positive).
    Chargeback,
    /// A correction by the agency or creditor, either sign (never zero).
    Adjustment,
    /// The rest of the debt forgiven after a settlement was paid (negative).
    SettlementWriteOff,
}

/// The sign an amount of a kind must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// Strictly positive: the debtor owes more.
    Positive,
    /// Strictly negative: the debtor owes less.
    Negative,
    /// Either, but not zero.
    NonZero,
}

impl PostingKind {
    /// Every kind, in a stable order.
    pub const ALL: [PostingKind; 8] = [
        PostingKind::Placement,
        PostingKind::Interest,
        PostingKind::Fee,
        PostingKind::Payment,
        PostingKind::Refund,
        PostingKind::Chargeback,
        PostingKind::Adjustment,
        PostingKind::SettlementWriteOff,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PostingKind::Placement => "placement",
            PostingKind::Interest => "interest",
            PostingKind::Fee => "fee",
            PostingKind::Payment => "payment",
            PostingKind::Refund => "refund",
            PostingKind::Chargeback => "chargeback",
            PostingKind::Adjustment => "adjustment",
            PostingKind::SettlementWriteOff => "settlement_write_off",
        }
    }

    /// The sign an amount of this kind must have.
    pub fn sign(self) -> Sign {
        match self {
            PostingKind::Placement
            | PostingKind::Interest
            | PostingKind::Fee
            | PostingKind::Refund
            | PostingKind::Chargeback => Sign::Positive,
            PostingKind::Payment | PostingKind::SettlementWriteOff => Sign::Negative,
            PostingKind::Adjustment => Sign::NonZero,
        }
    }
}

impl FromStr for PostingKind {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PostingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| LedgerError::UnknownKind(s.to_string()))
    }
}

impl fmt::Display for PostingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who or what caused a posting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Actor {
    /// A placement import run.
    Import(i64),
    /// An agency user.
    AgencyUser(i64),
    /// The debtor, through the portal or a bot.
    Debtor,
    /// A payment processor event (e.g. a Stripe event id).
    Processor(String),
    /// Settle itself (a scheduled job, the demo seed).
    System(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Import(id) => write!(f, "import:{id}"),
            Actor::AgencyUser(id) => write!(f, "user:{id}"),
            Actor::Debtor => f.write_str("debtor"),
            Actor::Processor(evt) => write!(f, "processor:{evt}"),
            Actor::System(what) => write!(f, "system:{what}"),
        }
    }
}

impl FromStr for Actor {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LedgerError::UnknownActor(s.to_string());
        match s.split_once(':') {
            None if s == "debtor" => Ok(Actor::Debtor),
            Some(("import", id)) => id.parse().map(Actor::Import).map_err(|_| bad()),
            Some(("user", id)) => id.parse().map(Actor::AgencyUser).map_err(|_| bad()),
            Some(("processor", evt)) if !evt.is_empty() => Ok(Actor::Processor(evt.to_string())),
            Some(("system", what)) if !what.is_empty() => Ok(Actor::System(what.to_string())),
            _ => Err(bad()),
        }
    }
}

/// A caller-chosen key that makes a posting happen at most once per account
/// (1–128 visible ASCII characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks a key.
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        if text.is_empty() || text.len() > 128 || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(LedgerError::BadKey(text.to_string()));
        }
        Ok(IdempotencyKey(text.to_string()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = LedgerError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        IdempotencyKey::parse(&value)
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> Self {
        value.0
    }
}

/// Why a posting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The amount's sign does not fit the kind.
    #[error("a {kind} posting must be {expected:?}, got {amount}")]
    WrongSign {
        /// The posting kind.
        kind: PostingKind,
        /// The sign it needs.
        expected: Sign,
        /// The amount given.
        amount: Money,
    },
    /// The posting's currency is not the account's.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// The key was used before for a different posting.
    #[error("idempotency key `{0}` was already used for a different posting")]
    KeyConflict(String),
    /// A key that is empty, too long or not visible ASCII.
    #[error("idempotency key `{0}` must be 1-128 visible ASCII characters")]
    BadKey(String),
    /// A stored kind name Settle does not know.
    #[error("unknown posting kind `{0}`")]
    UnknownKind(String),
    /// A stored actor Settle cannot read.
    #[error("unknown actor `{0}`")]
    UnknownActor(String),
}

/// One entry in an account's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    kind: PostingKind,
    amount: Money,
    key: IdempotencyKey,
    actor: Actor,
    memo: String,
}

impl Posting {
    /// Builds a posting; the amount is signed (payments negative) and must fit the kind.
    pub fn new(
        kind: PostingKind,
        amount: Money,
        key: IdempotencyKey,
        actor: Actor,
        memo: impl Into<String>,
    ) -> Result<Self, LedgerError> {
        let ok = match kind.sign() {
            Sign::Positive => amount.minor() > 0,
            Sign::Negative => amount.minor() < 0,
            Sign::NonZero => amount.minor() != 0,
        };
        if !ok {
            return Err(LedgerError::WrongSign {
                kind,
                expected: kind.sign(),
                amount,
            });
        }
        Ok(Posting {
            kind,
            amount,
            key,
            actor,
            memo: memo.into(),
        })
    }

    /// What the posting records.
    pub fn kind(&self) -> PostingKind {
        self.kind
    }
    /// The signed amount: positive means the debtor owes more.
    pub fn amount(&self) -> Money {
        self.amount
    }
    /// The idempotency key.
    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }
    /// Who or what caused it.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    /// A short human explanation.
    pub fn memo(&self) -> &str {
        &self.memo
    }

    /// True when both postings record the same change (used to tell a retry from a conflict).
    pub fn same_change(&self, other: &Posting) -> bool {
        self.kind == other.kind && self.amount == other.amount
    }
}

/// What posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostOutcome {
    /// The posting was appended.
    Posted,
    /// The key was already used for the same change: nothing changed.
    Duplicate,
}

/// An account's ledger in memory: the rules the stored ledger also follows.
#[derive(Debug, Clone)]
pub struct Ledger {
    currency: Currency,
    postings: Vec<Posting>,
    by_key: HashMap<IdempotencyKey, usize>,
}

impl Ledger {
    /// An empty ledger in one currency.
    pub fn new(currency: Currency) -> Self {
        Ledger {
            currency,
            postings: Vec::new(),
            by_key: HashMap::new(),
        }
    }

    /// Appends a posting unless its key was used before.
    pub fn post(&mut self, posting: Posting) -> Result<PostOutcome, LedgerError> {
        if posting.amount.currency() != self.currency {
            return Err(
                MoneyError::CurrencyMismatch(self.currency, posting.amount.currency()).into(),
            );
        }
        if let Some(&i) = self.by_key.get(&posting.key) {
            return if self.postings[i].same_change(&posting) {
                Ok(PostOutcome::Duplicate)
            } else {
                Err(LedgerError::KeyConflict(posting.key.0))
            };
        }
        self.by_key.insert(posting.key.clone(), self.postings.len());
        self.postings.push(posting);
        Ok(PostOutcome::Posted)
    }

    /// The postings in the order they were made.
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// What the debtor owes now: the sum of every posting.
    pub fn balance(&self) -> Result<Money, MoneyError> {
        self.postings
            .iter()
            .try_fold(Money::zero(self.currency), |acc, p| {
                acc.checked_add(p.amount)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::USD).unwrap()
    }

    fn key(s: &str) -> IdempotencyKey {
        IdempotencyKey::parse(s).unwrap()
    }

    #[test]
    fn signs_follow_kinds() {
        assert!(Posting::new(PostingKind::Payment, usd(500), key("k"), Actor::Debtor, "").is_err());
        assert!(Posting::new(PostingKind::Payment, usd(-500), key("k"), Actor::Debtor, "").is_ok());
        assert!(Posting::new(PostingKind::Fee, usd(0), key("k"), Actor::Debtor, "").is_err());
        assert!(Posting::new(
            PostingKind::Adjustment,
            usd(-1),
            key("k"),
            Actor::Debtor,
            ""
        )
        .is_ok());
    }

    #[test]
    fn a_key_reused_for_another_change_conflicts() {
        let mut l = Ledger::new(Currency::USD);
        let p = Posting::new(
            PostingKind::Placement,
            usd(100),
            key("a"),
            Actor::Import(1),
            "",
        )
        .unwrap();
        assert_eq!(l.post(p.clone()).unwrap(), PostOutcome::Posted);
        assert_eq!(l.post(p).unwrap(), PostOutcome::Duplicate);
        let other = Posting::new(PostingKind::Fee, usd(5), key("a"), Actor::Import(1), "").unwrap();
        assert!(matches!(l.post(other), Err(LedgerError::KeyConflict(_))));
    }

    #[test]
    fn actors_round_trip() {
        for a in [
            Actor::Import(3),
            Actor::AgencyUser(9),
            Actor::Debtor,
            Actor::Processor("evt_1".into()),
            Actor::System("demo".into()),
        ] {
            assert_eq!(a.to_string().parse::<Actor>().unwrap(), a);
        }
        assert!("nobody".parse::<Actor>().is_err());
    }

    /// A random posting: a kind, a magnitude and a key drawn from a small pool so that
    /// sequences repeat keys often.
    pub(crate) fn arb_posting() -> impl Strategy<Value = Posting> {
        (
            0usize..PostingKind::ALL.len(),
            1i64..1_000_000,
            any::<bool>(),
            0u8..20,
        )
            .prop_map(|(k, magnitude, negative_adjustment, key_no)| {
                let kind = PostingKind::ALL[k];
                let signed = match kind.sign() {
                    Sign::Positive => magnitude,
                    Sign::Negative => -magnitude,
                    Sign::NonZero if negative_adjustment => -magnitude,
                    Sign::NonZero => magnitude,
                };
                Posting::new(
                    kind,
                    usd(signed),
                    key(&format!("key-{key_no}")),
                    Actor::Debtor,
                    "",
                )
                .unwrap()
            })
    }

    proptest! {
        #[test]
        fn balance_is_the_sum_and_replays_change_nothing(
            postings in proptest::collection::vec(arb_posting(), 0..60)
        ) {
            let mut ledger = Ledger::new(Currency::USD);
            let mut expected: i64 = 0;
            let mut seen: HashMap<IdempotencyKey, Posting> = HashMap::new();
            for p in postings {
                let before = ledger.balance().unwrap();
                match ledger.post(p.clone()) {
                    Ok(PostOutcome::Posted) => {
                        expected += p.amount().minor();
                        seen.insert(p.key().clone(), p.clone());
                    }
                    Ok(PostOutcome::Duplicate) | Err(LedgerError::KeyConflict(_)) => {
                        prop_assert!(seen.contains_key(p.key()));
                        prop_assert_eq!(ledger.balance().unwrap(), before);
                    }
                    Err(e) => return Err(TestCaseError::fail(e.to_string())),
                }
                // Posting the very same posting again never changes the balance.
                let after = ledger.balance().unwrap();
                let replay = seen.get(p.key()).cloned().unwrap();
                prop_assert_eq!(ledger.post(replay).unwrap(), PostOutcome::Duplicate);
                prop_assert_eq!(ledger.balance().unwrap(), after);
                prop_assert_eq!(after.minor(), expected);
                let sum: i64 = ledger.postings().iter().map(|p| p.amount().minor()).sum();
                prop_assert_eq!(sum, after.minor());
            }
        }
    }
}
