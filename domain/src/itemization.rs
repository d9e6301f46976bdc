//! The Regulation F itemization of a debt (12 CFR 1006.34(c)(2)(vi)–(viii)).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, MoneyError};

/// Why an itemization was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemizationError {
    /// Amounts in more than one currency.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A component that cannot be negative is.
    #[error("{0} cannot be negative")]
    Negative(&'static str),
    /// The current amount is not the itemization arithmetic.
    #[error(
        "current_balance {stated} does not equal balance_at_itemization + interest_since + \
         fees_since - payments_since - credits_since = {computed}"
    )]
    Arithmetic {
        /// The current amount the creditor stated.
        stated: Money,
        /// What the components add up to.
        computed: Money,
    },
}

/// What the consumer owed on the itemization date and what changed since, which together
/// must give the current amount of the debt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Itemization {
    date: NaiveDate,
    balance_at_itemization: Money,
    interest_since: Money,
    fees_since: Money,
    payments_since: Money,
    credits_since: Money,
    current: Money,
}

impl Itemization {
    /// Checks the components: same currency, none negative, and
    /// `current = balance + interest + fees - payments - credits`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        date: NaiveDate,
        balance_at_itemization: Money,
        interest_since: Money,
        fees_since: Money,
        payments_since: Money,
        credits_since: Money,
        current: Money,
    ) -> Result<Self, ItemizationError> {
        for (what, m) in [
            ("balance_at_itemization", balance_at_itemization),
            ("interest_since", interest_since),
            ("fees_since", fees_since),
            ("payments_since", payments_since),
            ("credits_since", credits_since),
            ("current_balance", current),
        ] {
            if m.is_negative() {
                return Err(ItemizationError::Negative(what));
            }
        }
        let computed = balance_at_itemization
            .checked_add(interest_since)?
            .checked_add(fees_since)?
            .checked_sub(payments_since)?
            .checked_sub(credits_since)?;
        if current.currency() != computed.currency() {
            return Err(
                MoneyError::CurrencyMismatch(current.currency(), computed.currency()).into(),
            );
        }
        if computed != current {
            return Err(ItemizationError::Arithmetic {
                stated: current,
                computed,
            });
        }
        Ok(Itemization {
            date,
            balance_at_itemization,
            interest_since,
            fees_since,
            payments_since,
            credits_since,
            current,
        })
    }

    /// The itemization date (one of the five dates 1006.34(b)(3) allows, fixed once chosen).
    pub fn date(&self) -> NaiveDate {
        self.date
    }
    /// The amount owed on the itemization date.
    pub fn balance_at_itemization(&self) -> Money {
        self.balance_at_itemization
    }
    /// Interest charged since the itemization date.
    pub fn interest_since(&self) -> Money {
        self.interest_since
    }
    /// Fees charged since the itemization date.
    pub fn fees_since(&self) -> Money {
        self.fees_since
    }
    /// Payments made since the itemization date.
    pub fn payments_since(&self) -> Money {
        self.payments_since
    }
    /// Credits applied since the itemization date.
    pub fn credits_since(&self) -> Money {
        self.credits_since
    }
    /// The current amount of the debt.
    pub fn current(&self) -> Money {
        self.current
    }
    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.current.currency()
    }

    /// The ledger posting that opens the agency's ledger: the debt as placed, which is the
    /// current amount. What happened between the itemization date and placement is part of
    /// the itemization, not of the agency's ledger.
    pub fn placement_posting_amount(&self) -> Money {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::USD).unwrap()
    }

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()
    }

    #[test]
    fn accepts_consistent_itemization() {
        let it = Itemization::new(
            date(),
            usd(100_000),
            usd(2_500),
            usd(1_000),
            usd(5_000),
            usd(500),
            usd(98_000),
        )
        .unwrap();
        assert_eq!(it.placement_posting_amount().minor(), 98_000);
    }

    #[test]
    fn refuses_wrong_arithmetic() {
        let err = Itemization::new(
            date(),
            usd(100_000),
            usd(0),
            usd(0),
            usd(0),
            usd(0),
            usd(99_999),
        )
        .unwrap_err();
        assert!(matches!(err, ItemizationError::Arithmetic { .. }));
        assert!(err.to_string().contains("1000.00 USD"));
    }

    #[test]
    fn refuses_negative_parts_and_mixed_currency() {
        assert_eq!(
            Itemization::new(date(), usd(-1), usd(0), usd(0), usd(0), usd(0), usd(-1)),
            Err(ItemizationError::Negative("balance_at_itemization"))
        );
        let eur = Money::from_minor(0, Currency::EUR).unwrap();
        assert!(Itemization::new(date(), usd(1), eur, usd(0), usd(0), usd(0), usd(1)).is_err());
    }
}
