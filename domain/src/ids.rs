//! Identifiers: internal ids from storage and the external reference of a placed debt.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

int_id!(
    /// A collection agency (tenant) stored in Settle.
    AgencyId
);
int_id!(
    /// One placed debt (an account) stored in Settle; the unit ledgers, plans and holds attach to.
    AccountId
);

/// Why an account reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefError {
    /// Empty after trimming.
    #[error("account reference is empty")]
    Empty,
    /// Longer than 64 characters.
    #[error("account reference is longer than 64 characters")]
    TooLong,
    /// Contains characters other than letters, digits and `-_./#`.
    #[error("account reference `{0}` may only hold letters, digits and - _ . / #")]
    BadCharacter(String),
}

/// The agency's or creditor's reference for a placed debt, as printed on letters
/// (the debt identifier the debtor may type into the portal). 1–64 of `A-Za-z0-9-_./#`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountRef(String);

impl AccountRef {
    /// Parses a reference, trimming surrounding spaces.
    pub fn parse(text: &str) -> Result<Self, AccountRefError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(AccountRefError::Empty);
        }
        if t.len() > 64 {
            return Err(AccountRefError::TooLong);
        }
        if !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b'#'))
        {
            return Err(AccountRefError::BadCharacter(t.to_string()));
        }
        Ok(AccountRef(t.to_string()))
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountRef {
    type Error = AccountRefError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AccountRef::parse(&value)
    }
}

impl From<AccountRef> for String {
    fn from(value: AccountRef) -> Self {
        value.0
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_letter_references() {
        assert_eq!(
            AccountRef::parse(" AC-1001/7 ").unwrap().as_str(),
            "AC-1001/7"
        );
    }

    #[test]
    fn refuses_bad_references() {
        assert_eq!(AccountRef::parse("  "), Err(AccountRefError::Empty));
        assert_eq!(
            AccountRef::parse(&"x".repeat(65)),
            Err(AccountRefError::TooLong)
        );
        assert!(matches!(
            AccountRef::parse("a b"),
            Err(AccountRefError::BadCharacter(_))
        ));
        assert!(matches!(
            AccountRef::parse("a;drop"),
            Err(AccountRefError::BadCharacter(_))
        ));
    }
}
