//! Money: integer minor units in storage, `rust_decimal` for arithmetic, never floats.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why an amount or a currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The text is not a decimal number such as `1234.56`.
    #[error("`{0}` is not an amount like 1234.56")]
    NotANumber(String),
    /// More decimal places than the currency has (cents).
    #[error("`{0}` has more than two decimal places")]
    TooPrecise(String),
    /// The amount does not fit in the range Settle stores.
    #[error("amount out of range")]
    OutOfRange,
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    /// The currency code is not one Settle supports.
    #[error("unsupported currency `{0}` (supported: USD, CAD, EUR, GBP, MXN)")]
    UnsupportedCurrency(String),
}

/// An ISO 4217 currency Settle supports; all of them have two minor digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[allow(clippy::upper_case_acronyms)]
pub enum Currency {
    /// United States dollar, the default.
    #[default]
    USD,
    /// Canadian dollar.
    CAD,
    /// Euro.
    EUR,
    /// Pound sterling.
    GBP,
    /// Mexican peso.
    MXN,
}

impl Currency {
    /// The ISO 4217 alphabetic code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::USD => "USD",
            Currency::CAD => "CAD",
            Currency::EUR => "EUR",
            Currency::GBP => "GBP",
            Currency::MXN => "MXN",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "USD" => Ok(Currency::USD),
            "CAD" => Ok(Currency::CAD),
            "EUR" => Ok(Currency::EUR),
            "GBP" => Ok(Currency::GBP),
            "MXN" => Ok(Currency::MXN),
            _ => Err(MoneyError::UnsupportedCurrency(s.to_string())),
        }
    }
}

/// An amount of money in one currency, held as integer minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

/// Largest magnitude accepted: a trillion dollars leaves ample headroom for sums in i64.
const MAX_MINOR: i64 = 100_000_000_000_000;

impl Money {
    /// Builds an amount from minor units (cents).
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if minor.abs() > MAX_MINOR {
            return Err(MoneyError::OutOfRange);
        }
        Ok(Money { minor, currency })
    }

    /// Zero in the given currency.
    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal amount such as `1234.56`, `-5` or `0.5` (no exponents, no separators).
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let t = text.trim();
        let valid = !t.is_empty()
            && t.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+'))
            });
        if !valid {
            return Err(MoneyError::NotANumber(text.to_string()));
        }
        let d = Decimal::from_str_exact(t).map_err(|_| MoneyError::NotANumber(text.to_string()))?;
        Self::from_decimal(d, currency).map_err(|e| match e {
            MoneyError::TooPrecise(_) => MoneyError::TooPrecise(text.to_string()),
            other => other,
        })
    }

    /// Builds an amount from a decimal in major units; refuses fractions of a cent.
    pub fn from_decimal(d: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let d = d.normalize();
        if d.scale() > 2 {
            return Err(MoneyError::TooPrecise(d.to_string()));
        }
        let minor = (d * Decimal::ONE_HUNDRED)
            .to_i64()
            .ok_or(MoneyError::OutOfRange)?;
        Self::from_minor(minor, currency)
    }

    /// The amount in minor units (cents).
    pub fn minor(self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The amount in major units as an exact decimal, for arithmetic.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.minor, 2)
    }

    /// True when the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.minor < 0
    }

    /// True when the amount is zero.
    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// The same amount with the opposite sign.
    pub fn negate(self) -> Self {
        Money {
            minor: -self.minor,
            currency: self.currency,
        }
    }

    /// Adds two amounts of the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Self::from_decimal(self.to_decimal() + other.to_decimal(), self.currency)
    }

    /// Subtracts an amount of the same currency.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.checked_add(other.negate())
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

impl Money {
    /// The amount as debtors read it: `$1,234.56` for dollars, `1,234.56 EUR` otherwise;
    /// negatives with a minus sign.
    pub fn for_people(&self) -> String {
        let minor = self.minor();
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        let units = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let cents = abs % 100;
        match self.currency().code() {
            "USD" => format!("{sign}${grouped}.{cents:02}"),
            code => format!("{sign}{grouped}.{cents:02} {code}"),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} {}", self.to_decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cents_exactly() {
        assert_eq!(
            Money::parse("1234.56", Currency::USD).unwrap().minor(),
            123_456
        );
        assert_eq!(Money::parse("0.5", Currency::USD).unwrap().minor(), 50);
        assert_eq!(Money::parse("7", Currency::USD).unwrap().minor(), 700);
        assert_eq!(Money::parse("-3.10", Currency::USD).unwrap().minor(), -310);
        assert_eq!(Money::parse("1.500", Currency::USD).unwrap().minor(), 150);
    }

    #[test]
    fn refuses_bad_amounts() {
        assert!(matches!(
            Money::parse("1.005", Currency::USD),
            Err(MoneyError::TooPrecise(_))
        ));
        for bad in ["", "abc", "1,000.00", "1e3", "$5", "1.2.3", " - "] {
            assert!(Money::parse(bad, Currency::USD).is_err(), "{bad}");
        }
        assert_eq!(
            Money::parse("99999999999999999", Currency::USD),
            Err(MoneyError::OutOfRange)
        );
    }

    #[test]
    fn arithmetic_checks_currency() {
        let a = Money::from_minor(100, Currency::USD).unwrap();
        let b = Money::from_minor(250, Currency::USD).unwrap();
        assert_eq!(a.checked_add(b).unwrap().minor(), 350);
        assert_eq!(a.checked_sub(b).unwrap().minor(), -150);
        let e = Money::from_minor(1, Currency::EUR).unwrap();
        assert!(matches!(
            a.checked_add(e),
            Err(MoneyError::CurrencyMismatch(_, _))
        ));
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(
            Money::from_minor(123_405, Currency::USD)
                .unwrap()
                .to_string(),
            "1234.05 USD"
        );
    }
}
