//! Ways to reach a consumer: phone, email, postal address, language.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why contact data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Not a phone number at all.
    #[error("`{0}` is not a phone number")]
    PhoneUnparseable(String),
    /// Parsed, but no such number can exist (wrong length, unassigned area code...).
    #[error("`{0}` is not a valid phone number")]
    PhoneInvalid(String),
    /// Not an email address.
    #[error("`{0}` is not an email address")]
    Email(String),
    /// Not a US state, DC or territory code.
    #[error("`{0}` is not a US state code")]
    State(String),
    /// Not a ZIP code (5 digits or ZIP+4).
    #[error("`{0}` is not a ZIP code")]
    PostalCode(String),
    /// A required line of the address is empty or too long.
    #[error("{0} is empty or longer than 100 characters")]
    Line(&'static str),
    /// Not a supported language.
    #[error("`{0}` is not a supported language (en, es)")]
    Language(String),
}

/// A phone number in E.164 form (`+12025550123`), known to be a possible, valid number.
/// National numbers without a country code are read as US numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneE164(String);

impl PhoneE164 {
    /// Parses and validates a number with the `phonenumber` crate (libphonenumber's metadata).
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let n = phonenumber::parse(Some(phonenumber::country::Id::US), text.trim())
            .map_err(|_| ContactError::PhoneUnparseable(text.to_string()))?;
        if !phonenumber::is_valid(&n) {
            return Err(ContactError::PhoneInvalid(text.to_string()));
        }
        Ok(PhoneE164(
            n.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// Rebuilds a number that was validated when it was stored, checking only its E.164
    /// form (`+` and 8 to 15 digits): full validation costs about 10 µs a number.
    pub fn from_stored(text: String) -> Result<Self, ContactError> {
        let digits = text.strip_prefix('+').unwrap_or("");
        if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(PhoneE164(text))
        } else {
            Err(ContactError::PhoneInvalid(text))
        }
    }

    /// The number as `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The North American area code, when the number is a +1 number.
    pub fn nanp_area_code(&self) -> Option<&str> {
        self.0.strip_prefix("+1").map(|rest| &rest[..3])
    }
}

impl TryFrom<String> for PhoneE164 {
    type Error = ContactError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PhoneE164::parse(&value)
    }
}

impl From<PhoneE164> for String {
    fn from(value: PhoneE164) -> Self {
        value.0
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, syntax-checked by the `email_address` crate (RFC 5322 addr-spec).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an address; the domain part is lower-cased.
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let t = text.trim();
        let parsed = email_address::EmailAddress::from_str(t)
            .map_err(|_| ContactError::Email(text.to_string()))?;
        if !parsed.domain().contains('.') {
            return Err(ContactError::Email(text.to_string()));
        }
        Ok(Email(format!(
            "{}@{}",
            parsed.local_part(),
            parsed.domain().to_ascii_lowercase()
        )))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ContactError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

macro_rules! us_states {
    ($($code:ident => $name:literal),* $(,)?) => {
        /// A US state, the District of Columbia or a populated US territory.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum UsState {
            $(
                #[doc = $name]
                $code,
            )*
        }

        impl UsState {
            /// Every state, DC and territory.
            pub const ALL: &'static [UsState] = &[$(UsState::$code),*];

            /// The two-letter USPS code.
            pub fn code(self) -> &'static str {
                match self { $(UsState::$code => stringify!($code)),* }
            }

            /// The full name.
            pub fn name(self) -> &'static str {
                match self { $(UsState::$code => $name),* }
            }
        }

        impl FromStr for UsState {
            type Err = ContactError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_uppercase().as_str() {
                    $(stringify!($code) => Ok(UsState::$code),)*
                    _ => Err(ContactError::State(s.to_string())),
                }
            }
        }
    };
}

us_states! {
    AL => "Alabama", AK => "Alaska", AZ => "Arizona", AR => "Arkansas", CA => "California",
    CO => "Colorado", CT => "Connecticut", DE => "Delaware", DC => "District of Columbia",
    FL => "Florida", GA => "Georgia", HI => "Hawaii", ID => "Idaho", IL => "Illinois",
    IN => "Indiana", IA => "Iowa", KS => "Kansas", KY => "Kentucky", LA => "Louisiana",
    ME => "Maine", MD => "Maryland", MA => "Massachusetts", MI => "Michigan", MN => "Minnesota",
    MS => "Mississippi", MO => "Missouri", MT => "Montana", NE => "Nebraska", NV => "Nevada",
    NH => "New Hampshire", NJ => "New Jersey", NM => "New Mexico", NY => "New York",
    NC => "North Carolina", ND => "North Dakota", OH => "Ohio", OK => "Oklahoma", OR => "Oregon",
    PA => "Pennsylvania", RI => "Rhode Island", SC => "South Carolina", SD => "South Dakota",
    TN => "Tennessee", TX => "Texas", UT => "Utah", VT => "Vermont", VA => "Virginia",
    WA => "Washington", WV => "West Virginia", WI => "Wisconsin", WY => "Wyoming",
    PR => "Puerto Rico", GU => "Guam", VI => "U.S. Virgin Islands", AS => "American Samoa",
    MP => "Northern Mariana Islands",
}

impl fmt::Display for UsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A US ZIP code: five digits, optionally `-` and four more.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode(String);

impl PostalCode {
    /// Parses `02134` or `02134-1234` (a bare 9-digit ZIP+4 is also read).
    pub fn parse(text: &str) -> Result<Self, ContactError> {
        let t = text.trim();
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        // Only ASCII may be cut by byte position below.
        let ok = t.is_ascii()
            && match t.len() {
                5 => digits(t),
                9 if digits(t) => return Ok(PostalCode(format!("{}-{}", &t[..5], &t[5..]))),
                10 => digits(&t[..5]) && t.as_bytes()[5] == b'-' && digits(&t[6..]),
                _ => false,
            };
        if ok {
            Ok(PostalCode(t.to_string()))
        } else {
            Err(ContactError::PostalCode(text.to_string()))
        }
    }

    /// The five-digit ZIP, which is what a consumer types to prove identity.
    pub fn zip5(&self) -> &str {
        &self.0[..5]
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PostalCode {
    type Error = ContactError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PostalCode::parse(&value)
    }
}

impl From<PostalCode> for String {
    fn from(value: PostalCode) -> Self {
        value.0
    }
}

/// A US postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    line1: String,
    line2: Option<String>,
    city: String,
    state: UsState,
    postal_code: PostalCode,
}

fn line(text: &str, what: &'static str) -> Result<String, ContactError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(ContactError::Line(what));
    }
    Ok(t.to_string())
}

impl PostalAddress {
    /// Builds an address from its parts; line 2 may be empty.
    pub fn new(
        line1: &str,
        line2: Option<&str>,
        city: &str,
        state: UsState,
        postal_code: PostalCode,
    ) -> Result<Self, ContactError> {
        Ok(PostalAddress {
            line1: line(line1, "address_line1")?,
            line2: match line2.map(str::trim) {
                None | Some("") => None,
                Some(l) => Some(line(l, "address_line2")?),
            },
            city: line(city, "city")?,
            state,
            postal_code,
        })
    }

    /// Street line.
    pub fn line1(&self) -> &str {
        &self.line1
    }
    /// Apartment, suite, etc.
    pub fn line2(&self) -> Option<&str> {
        self.line2.as_deref()
    }
    /// City.
    pub fn city(&self) -> &str {
        &self.city
    }
    /// State, DC or territory.
    pub fn state(&self) -> UsState {
        self.state
    }
    /// ZIP code.
    pub fn postal_code(&self) -> &PostalCode {
        &self.postal_code
    }
}

/// The language a consumer reads Settle in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Language {
    /// English, the default.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Language {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }
}

impl FromStr for Language {
    type Err = ContactError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "en" | "en-us" | "english" => Ok(Language::En),
            "es" | "es-us" | "es-mx" | "spanish" | "español" => Ok(Language::Es),
            _ => Err(ContactError::Language(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn stored_phones_are_read_back_checking_only_their_form() {
        assert_eq!(
            PhoneE164::from_stored("+16175550142".into())
                .unwrap()
                .as_str(),
            "+16175550142"
        );
        for bad in ["6175550142", "+1617", "+1617555014a", ""] {
            assert!(PhoneE164::from_stored(bad.into()).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn phone_becomes_e164() {
        assert_eq!(
            PhoneE164::parse("(617) 555-0142").unwrap().as_str(),
            "+16175550142"
        );
        assert_eq!(
            PhoneE164::parse("+1 212 555 0199").unwrap().as_str(),
            "+12125550199"
        );
        let p = PhoneE164::parse("+16175550142").unwrap();
        assert_eq!(p.nanp_area_code(), Some("617"));
    }

    #[test]
    fn phone_refuses_nonsense() {
        assert!(PhoneE164::parse("hello").is_err());
        assert!(PhoneE164::parse("123").is_err());
        // 123 is not an assignable North American area code.
        assert!(PhoneE164::parse("+1 123 555 0142").is_err());
    }

    #[test]
    fn email_checks_syntax() {
        assert_eq!(
            Email::parse("Ana@Example.COM").unwrap().as_str(),
            "Ana@example.com"
        );
        assert!(Email::parse("not-an-email").is_err());
        assert!(Email::parse("a@localhost").is_err());
    }

    #[test]
    fn states_and_zip() {
        assert_eq!("ma".parse::<UsState>().unwrap(), UsState::MA);
        assert_eq!("PR".parse::<UsState>().unwrap().name(), "Puerto Rico");
        assert!("XX".parse::<UsState>().is_err());
        assert_eq!(UsState::ALL.len(), 56);
        assert_eq!(
            PostalCode::parse("021341234").unwrap().as_str(),
            "02134-1234"
        );
        assert_eq!(PostalCode::parse("02134-1234").unwrap().zip5(), "02134");
        // Ten bytes that are not ten characters (found by the API fuzzer: it panicked).
        for bad in [
            "2134",
            "ABCDE",
            "02134-12",
            "02134 1234",
            "0213\u{84}1234",
            "é2134",
        ] {
            assert!(PostalCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn address_requires_lines() {
        let zip = PostalCode::parse("02134").unwrap();
        assert!(PostalAddress::new("", None, "Boston", UsState::MA, zip.clone()).is_err());
        let a = PostalAddress::new("1 Main St", Some(" "), "Boston", UsState::MA, zip).unwrap();
        assert_eq!(a.line2(), None);
    }
}
