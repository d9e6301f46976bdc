//! The consumer as a person: name and date of birth.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a name or a birth date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    /// A name part is empty, too long or holds control characters.
    #[error("{0} is empty, longer than 100 characters or holds control characters")]
    Name(&'static str),
    /// Not an ISO 8601 date.
    #[error("`{0}` is not a date like 1980-04-17")]
    DateFormat(String),
    /// A birth date in the future or more than 130 years ago.
    #[error("date of birth {0} is not plausible")]
    Implausible(NaiveDate),
}

/// A consumer's first and last name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    first: String,
    last: String,
}

fn name_part(text: &str, what: &'static str) -> Result<String, PersonError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(PersonError::Name(what));
    }
    Ok(t.to_string())
}

impl PersonName {
    /// Builds a name from its two parts.
    pub fn new(first: &str, last: &str) -> Result<Self, PersonError> {
        Ok(PersonName {
            first: name_part(first, "first_name")?,
            last: name_part(last, "last_name")?,
        })
    }
    /// Given name.
    pub fn first(&self) -> &str {
        &self.first
    }
    /// Family name.
    pub fn last(&self) -> &str {
        &self.last
    }
}

/// Parses an ISO 8601 calendar date (`YYYY-MM-DD`).
pub fn parse_iso_date(text: &str) -> Result<NaiveDate, PersonError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| PersonError::DateFormat(text.to_string()))
}

/// A date of birth: not in the future and not more than 130 years ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    /// Checks a birth date against today's date.
    pub fn new(date: NaiveDate, today: NaiveDate) -> Result<Self, PersonError> {
        let oldest = today
            .checked_sub_months(chrono::Months::new(130 * 12))
            .unwrap_or(NaiveDate::MIN);
        if date > today || date < oldest {
            return Err(PersonError::Implausible(date));
        }
        Ok(DateOfBirth(date))
    }

    /// Parses `YYYY-MM-DD` and checks it against today's date.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, PersonError> {
        Self::new(parse_iso_date(text)?, today)
    }

    /// The date.
    pub fn date(self) -> NaiveDate {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn birth_dates() {
        let today = d("2026-11-23");
        assert!(DateOfBirth::parse("1980-04-17", today).is_ok());
        assert!(DateOfBirth::parse("2027-01-01", today).is_err());
        assert!(DateOfBirth::parse("1880-01-01", today).is_err());
        assert!(matches!(
            DateOfBirth::parse("04/17/1980", today),
            Err(PersonError::DateFormat(_))
        ));
    }

    #[test]
    fn names() {
        assert_eq!(PersonName::new(" Ana ", "Pérez").unwrap().first(), "Ana");
        assert!(PersonName::new("", "Pérez").is_err());
    }
}
