//! A placement: one debt handed to the agency, as read from a row of a placement file.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::contact::{Email, Language, PhoneE164, PostalAddress, PostalCode, UsState};
use crate::ids::AccountRef;
use crate::itemization::Itemization;
use crate::money::{Currency, Money};
use crate::person::{parse_iso_date, DateOfBirth, PersonName};

/// The text of one placement row, field by field; absent optional columns are empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawPlacement<'a> {
    /// The creditor's reference for the debt.
    pub account_ref: &'a str,
    /// The creditor that placed the debt (the current creditor on notices).
    pub creditor: &'a str,
    /// The original creditor, when different (optional).
    pub original_creditor: &'a str,
    /// Given name.
    pub first_name: &'a str,
    /// Family name.
    pub last_name: &'a str,
    /// `YYYY-MM-DD`.
    pub date_of_birth: &'a str,
    /// Any common phone format; read as US when there is no country code (optional).
    pub phone: &'a str,
    /// Email address (optional).
    pub email: &'a str,
    /// Street line.
    pub address_line1: &'a str,
    /// Apartment, suite (optional).
    pub address_line2: &'a str,
    /// City.
    pub city: &'a str,
    /// Two-letter state code.
    pub state: &'a str,
    /// ZIP or ZIP+4.
    pub postal_code: &'a str,
    /// `YYYY-MM-DD`.
    pub itemization_date: &'a str,
    /// Amount such as `1234.56`.
    pub balance_at_itemization: &'a str,
    /// Amount.
    pub interest_since: &'a str,
    /// Amount.
    pub fees_since: &'a str,
    /// Amount.
    pub payments_since: &'a str,
    /// Amount.
    pub credits_since: &'a str,
    /// Amount.
    pub current_balance: &'a str,
    /// ISO 4217 code; USD when empty.
    pub currency: &'a str,
    /// IANA time zone the consumer told the creditor (optional).
    pub time_zone: &'a str,
    /// `en` or `es`; English when empty.
    pub language: &'a str,
    /// Whether the consumer consented to text messages (`true`/`false`, `yes`/`no`, `1`/`0`).
    pub sms_consent: &'a str,
    /// Whether the statute of limitations has run (no suits or threats of suit, 1006.26).
    pub time_barred: &'a str,
}

/// A placed debt whose every field is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The creditor's reference for the debt.
    pub account_ref: AccountRef,
    /// The creditor on whose behalf the agency collects.
    pub creditor: String,
    /// The original creditor, when different.
    pub original_creditor: Option<String>,
    /// The consumer's name.
    pub name: PersonName,
    /// The consumer's date of birth (used to prove identity).
    pub date_of_birth: DateOfBirth,
    /// The consumer's phone.
    pub phone: Option<PhoneE164>,
    /// The consumer's email.
    pub email: Option<Email>,
    /// The consumer's postal address.
    pub address: PostalAddress,
    /// The consumer's own time zone, if they told one.
    pub time_zone: Option<Tz>,
    /// The language to write in.
    pub language: Language,
    /// Prior express consent to text messages.
    pub sms_consent: bool,
    /// The statute of limitations has run.
    pub time_barred: bool,
    /// The Regulation F itemization.
    pub itemization: Itemization,
}

fn required<'a>(errors: &mut Vec<String>, field: &str, value: &'a str) -> Option<&'a str> {
    let v = value.trim();
    if v.is_empty() {
        errors.push(format!("{field} is required"));
        None
    } else {
        Some(v)
    }
}

fn flag(errors: &mut Vec<String>, field: &str, value: &str) -> bool {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "n" | "0" => false,
        "true" | "yes" | "y" | "1" => true,
        other => {
            errors.push(format!("{field} `{other}` is not true or false"));
            false
        }
    }
}

fn text_field(errors: &mut Vec<String>, field: &str, value: &str) -> Option<String> {
    let v = required(errors, field, value)?;
    if v.chars().count() > 200 || v.chars().any(char::is_control) {
        errors.push(format!(
            "{field} is longer than 200 characters or holds control characters"
        ));
        return None;
    }
    Some(v.to_string())
}

impl Placement {
    /// Validates a row. `today` bounds birth and itemization dates. On failure every problem
    /// found is returned, each naming its field.
    pub fn parse(raw: &RawPlacement<'_>, today: NaiveDate) -> Result<Placement, Vec<String>> {
        let mut errors = Vec::new();
        macro_rules! check {
            ($e:expr) => {
                match $e {
                    Ok(v) => Some(v),
                    Err(e) => {
                        errors.push(e.to_string());
                        None
                    }
                }
            };
        }
        let account_ref = required(&mut errors, "account_ref", raw.account_ref)
            .and_then(|v| check!(AccountRef::parse(v)));
        let creditor = text_field(&mut errors, "creditor", raw.creditor);
        let original_creditor = match raw.original_creditor.trim() {
            "" => None,
            v => text_field(&mut errors, "original_creditor", v),
        };
        let name = match (
            required(&mut errors, "first_name", raw.first_name),
            required(&mut errors, "last_name", raw.last_name),
        ) {
            (Some(f), Some(l)) => check!(PersonName::new(f, l)),
            _ => None,
        };
        let date_of_birth = required(&mut errors, "date_of_birth", raw.date_of_birth)
            .and_then(|v| check!(DateOfBirth::parse(v, today)));
        let phone = match raw.phone.trim() {
            "" => Some(None),
            v => check!(PhoneE164::parse(v)).map(Some),
        };
        let email = match raw.email.trim() {
            "" => Some(None),
            v => check!(Email::parse(v)).map(Some),
        };
        let state =
            required(&mut errors, "state", raw.state).and_then(|v| check!(v.parse::<UsState>()));
        let zip = required(&mut errors, "postal_code", raw.postal_code)
            .and_then(|v| check!(PostalCode::parse(v)));
        let address = match (state, zip) {
            (Some(state), Some(zip)) => check!(PostalAddress::new(
                raw.address_line1,
                Some(raw.address_line2),
                raw.city,
                state,
                zip
            )),
            _ => None,
        };
        let time_zone = match raw.time_zone.trim() {
            "" => Some(None),
            v => match v.parse::<Tz>() {
                Ok(tz) => Some(Some(tz)),
                Err(_) => {
                    errors.push(format!("time_zone `{v}` is not an IANA time zone"));
                    None
                }
            },
        };
        let language = check!(raw.language.parse::<Language>());
        let sms_consent = flag(&mut errors, "sms_consent", raw.sms_consent);
        let time_barred = flag(&mut errors, "time_barred", raw.time_barred);
        let currency = match raw.currency.trim() {
            "" => Some(Currency::USD),
            v => check!(v.parse::<Currency>()),
        };
        let itemization_date = required(&mut errors, "itemization_date", raw.itemization_date)
            .and_then(|v| match parse_iso_date(v) {
                Ok(d) if d > today => {
                    errors.push(format!("itemization_date {d} is in the future"));
                    None
                }
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(format!(
                        "itemization_date `{v}` is not a date like 2026-01-31"
                    ));
                    None
                }
            });
        let itemization = currency.and_then(|currency| {
            let mut amount = |field: &str, value: &str| {
                let v = required(&mut errors, field, value)?;
                match Money::parse(v, currency) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        errors.push(format!("{field}: {e}"));
                        None
                    }
                }
            };
            let parts = (
                amount("balance_at_itemization", raw.balance_at_itemization),
                amount("interest_since", raw.interest_since),
                amount("fees_since", raw.fees_since),
                amount("payments_since", raw.payments_since),
                amount("credits_since", raw.credits_since),
                amount("current_balance", raw.current_balance),
            );
            match (itemization_date, parts) {
                (Some(d), (Some(b), Some(i), Some(f), Some(p), Some(c), Some(cur))) => {
                    check!(Itemization::new(d, b, i, f, p, c, cur))
                }
                _ => None,
            }
        });
        if let Some(it) = &itemization {
            if it.current().is_zero() {
                errors.push("current_balance is zero: there is nothing to collect".to_string());
            }
        }
        match (
            account_ref,
            creditor,
            name,
            date_of_birth,
            phone,
            email,
            address,
            time_zone,
            language,
            itemization,
        ) {
            (
                Some(account_ref),
                Some(creditor),
                Some(name),
                Some(date_of_birth),
                Some(phone),
                Some(email),
                Some(address),
                Some(time_zone),
                Some(language),
                Some(itemization),
            ) if errors.is_empty() => Ok(Placement {
                account_ref,
                creditor,
                original_creditor,
                name,
                date_of_birth,
                phone,
                email,
                address,
                time_zone,
                language,
                sms_consent,
                time_barred,
                itemization,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> RawPlacement<'static> {
        RawPlacement {
            account_ref: "ACME-1",
            creditor: "Acme Medical",
            first_name: "Ana",
            last_name: "Pérez",
            date_of_birth: "1984-02-29",
            phone: "617-555-0142",
            email: "ana@example.com",
            address_line1: "1 Main St",
            city: "Boston",
            state: "MA",
            postal_code: "02134",
            itemization_date: "2026-01-31",
            balance_at_itemization: "1000.00",
            interest_since: "12.50",
            fees_since: "0",
            payments_since: "100",
            credits_since: "0.00",
            current_balance: "912.50",
            time_zone: "America/New_York",
            language: "es",
            sms_consent: "yes",
            ..Default::default()
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn parses_a_good_row() {
        let p = Placement::parse(&good(), today()).unwrap();
        assert_eq!(p.phone.unwrap().as_str(), "+16175550142");
        assert_eq!(p.itemization.current().minor(), 91_250);
        assert_eq!(p.language, Language::Es);
        assert!(p.sms_consent);
        assert_eq!(p.time_zone, Some(chrono_tz::America::New_York));
    }

    #[test]
    fn reports_every_problem_with_its_field() {
        let raw = RawPlacement {
            account_ref: "",
            date_of_birth: "17/04/1980",
            state: "ZZ",
            current_balance: "900.00",
            sms_consent: "maybe",
            ..good()
        };
        let errs = Placement::parse(&raw, today()).unwrap_err();
        let all = errs.join("; ");
        assert!(all.contains("account_ref is required"), "{all}");
        assert!(all.contains("not a date"), "{all}");
        assert!(all.contains("ZZ"), "{all}");
        assert!(all.contains("does not equal"), "{all}");
        assert!(all.contains("sms_consent"), "{all}");
    }

    #[test]
    fn refuses_zero_and_future_itemization() {
        let zero = RawPlacement {
            balance_at_itemization: "0",
            interest_since: "0",
            payments_since: "0",
            current_balance: "0",
            ..good()
        };
        assert!(Placement::parse(&zero, today()).unwrap_err()[0].contains("nothing to collect"));
        let future = RawPlacement {
            itemization_date: "2027-01-01",
            ..good()
        };
        assert!(Placement::parse(&future, today()).unwrap_err()[0].contains("future"));
    }
}
