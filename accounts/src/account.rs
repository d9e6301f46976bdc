//! Placed accounts: reading them back as domain types.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    AccountId, AccountRef, AgencyId, Currency, DateOfBirth, Email, Itemization, Language, Money,
    PersonName, PhoneE164, PostalAddress, PostalCode, UsState,
};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::Accounts;

/// A placed account with its consumer, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Internal id.
    pub id: AccountId,
    /// The agency collecting it.
    pub agency_id: AgencyId,
    /// The creditor's reference.
    pub account_ref: AccountRef,
    /// The creditor.
    pub creditor: String,
    /// The original creditor, when different.
    pub original_creditor: Option<String>,
    /// The consumer's name.
    pub name: PersonName,
    /// The consumer's date of birth.
    pub date_of_birth: DateOfBirth,
    /// The consumer's phone.
    pub phone: Option<PhoneE164>,
    /// The consumer's email.
    pub email: Option<Email>,
    /// The consumer's address.
    pub address: PostalAddress,
    /// The time zone the consumer told us, as an IANA name.
    pub time_zone: Option<chrono_tz::Tz>,
    /// The consumer's language.
    pub language: Language,
    /// Prior express consent to texts.
    pub sms_consent: bool,
    /// The statute of limitations has run.
    pub time_barred: bool,
    /// The Regulation F itemization as placed.
    pub itemization: Itemization,
    /// When the account was placed with the agency.
    pub placed_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: i64,
    agency_id: i64,
    account_ref: String,
    creditor: String,
    original_creditor: Option<String>,
    currency: String,
    first_name: String,
    last_name: String,
    date_of_birth: NaiveDate,
    phone: Option<String>,
    email: Option<String>,
    address_line1: String,
    address_line2: Option<String>,
    city: String,
    state: String,
    postal_code: String,
    time_zone: Option<String>,
    language: String,
    sms_consent: bool,
    time_barred: bool,
    itemization_date: NaiveDate,
    balance_at_itemization: i64,
    interest_since: i64,
    fees_since: i64,
    payments_since: i64,
    credits_since: i64,
    placed_amount: i64,
    placed_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str =
    "id, agency_id, account_ref, creditor, original_creditor, currency, \
    first_name, last_name, date_of_birth, phone, email, address_line1, address_line2, city, \
    state, postal_code, time_zone, language, sms_consent, time_barred, itemization_date, \
    balance_at_itemization, interest_since, fees_since, payments_since, credits_since, \
    placed_amount, placed_at";

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

impl TryFrom<AccountRow> for AccountRecord {
    type Error = Error;

    fn try_from(r: AccountRow) -> Result<Self> {
        let currency: Currency = r.currency.parse().map_err(corrupt)?;
        let money = |minor| Money::from_minor(minor, currency).map_err(corrupt);
        let state: UsState = r.state.parse().map_err(corrupt)?;
        Ok(AccountRecord {
            id: AccountId(r.id),
            agency_id: AgencyId(r.agency_id),
            account_ref: AccountRef::parse(&r.account_ref).map_err(corrupt)?,
            creditor: r.creditor,
            original_creditor: r.original_creditor,
            name: PersonName::new(&r.first_name, &r.last_name).map_err(corrupt)?,
            // A stored birth date was checked on the day it was placed; re-check only its form.
            date_of_birth: DateOfBirth::new(r.date_of_birth, r.date_of_birth).map_err(corrupt)?,
            // Validated against libphonenumber when placed; re-reading checks only its form.
            phone: r
                .phone
                .map(PhoneE164::from_stored)
                .transpose()
                .map_err(corrupt)?,
            email: r
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(corrupt)?,
            address: PostalAddress::new(
                &r.address_line1,
                r.address_line2.as_deref(),
                &r.city,
                state,
                PostalCode::parse(&r.postal_code).map_err(corrupt)?,
            )
            .map_err(corrupt)?,
            time_zone: r
                .time_zone
                .as_deref()
                .map(str::parse::<chrono_tz::Tz>)
                .transpose()
                .map_err(corrupt)?,
            language: r.language.parse().map_err(corrupt)?,
            sms_consent: r.sms_consent,
            time_barred: r.time_barred,
            itemization: Itemization::new(
                r.itemization_date,
                money(r.balance_at_itemization)?,
                money(r.interest_since)?,
                money(r.fees_since)?,
                money(r.payments_since)?,
                money(r.credits_since)?,
                money(r.placed_amount)?,
            )
            .map_err(corrupt)?,
            placed_at: r.placed_at,
        })
    }
}

impl Accounts {
    /// The account with `id`.
    pub async fn account(&self, id: AccountId) -> Result<AccountRecord> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
        let row: Option<AccountRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(id.0).fetch_optional(pool).await?
        });
        row.ok_or(Error::NotFound("account"))?.try_into()
    }

    /// The account an agency holds under `account_ref`, if any.
    pub async fn account_by_ref(
        &self,
        agency: AgencyId,
        account_ref: &AccountRef,
    ) -> Result<Option<AccountRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM accounts WHERE agency_id = $1 AND account_ref = $2");
        let row: Option<AccountRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(agency.0)
                .bind(account_ref.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// Up to `limit` of an agency's account ids above `after`, in order: a page of a list.
    pub async fn account_ids(
        &self,
        agency: AgencyId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AccountId>> {
        let ids: Vec<i64> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT id FROM accounts WHERE agency_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(agency.0)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(ids.into_iter().map(AccountId).collect())
    }

    /// How many accounts an agency holds.
    pub async fn count_accounts(&self, agency: AgencyId) -> Result<i64> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE agency_id = $1")
                .bind(agency.0)
                .fetch_one(pool)
                .await?
        }))
    }

    /// How many disputes are open on an account.
    pub async fn open_disputes(&self, account: AccountId) -> Result<i64> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM disputes WHERE account_id = $1 AND status = 'open'")
                .bind(account.0)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Changes the language the consumer is written to in.
    pub async fn set_language(&self, account: AccountId, language: domain::Language) -> Result<()> {
        with_db!(&self.db, pool => {
            sqlx::query("UPDATE accounts SET language = $1 WHERE id = $2")
                .bind(language.tag())
                .bind(account.0)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Replaces the phone and email the consumer asked to be reached at (`None` clears one).
    /// An SMS opt-out stays in force whatever the number: only an explicit opt-in lifts it.
    pub async fn set_contact_details(
        &self,
        account: AccountId,
        phone: Option<&domain::PhoneE164>,
        email: Option<&domain::Email>,
    ) -> Result<()> {
        with_db!(&self.db, pool => {
            sqlx::query("UPDATE accounts SET phone = $1, email = $2 WHERE id = $3")
                .bind(phone.map(|p| p.as_str()))
                .bind(email.map(|e| e.as_str()))
                .bind(account.0)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
