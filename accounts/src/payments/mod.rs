//! Payments: each creditor's terms, checkouts (pay in full or in part, settlements), payment
//! plans and their instalments, and the processor events that move money in the ledger.
//!
//! The [`PaymentGateway`] port has two adapters: Stripe (in the server, with the webhook) and
//! [`DemoGateway`], which needs no credentials. Every amount reaches the ledger through
//! [`Accounts::apply_event`], keyed by the processor's own object id, so a repeated or
//! reordered event never counts twice.

mod demo;
mod events;
mod plans;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, NaiveDate, Utc};
use domain::payment::PaymentTerms;
use domain::{AccountId, AgencyId, Currency, Money};
use serde::{Deserialize, Serialize};

use crate::db::with_db;
use crate::{Accounts, Error, Result};

pub use demo::{DemoCheckout, DemoGateway, DemoOutcome, DEMO_CARDS};
pub use events::{Applied, EventKind, ProcessorEvent};
pub use plans::{DueInstalment, InstalmentView, PlanView, RETRY_AFTER_HOURS};

/// A boxed future, so the port can be used as `Arc<dyn PaymentGateway>`.
pub type GatewayFuture<'a, T> =
    Pin<Box<dyn Future<Output = std::result::Result<T, GatewayError>> + Send + 'a>>;

/// Why the processor could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The processor is unreachable or answered with an error.
    #[error("payment processor unavailable: {0}")]
    Unavailable(String),
    /// The processor refused the request as malformed.
    #[error("payment processor refused the request: {0}")]
    Refused(String),
}

/// What a checkout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A payment in full or in part.
    OneTime,
    /// The lump sum of an accepted settlement.
    Settlement,
    /// A plan's instalment.
    Instalment,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::OneTime => "one_time",
            Purpose::Settlement => "settlement",
            Purpose::Instalment => "instalment",
        }
    }
}

/// A hosted page the debtor is sent to: pay once, or save a payment method for a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutRequest {
    /// Take a payment.
    Payment {
        /// The account paying.
        account: AccountId,
        /// Settle's payment row (sent back in the processor's metadata).
        payment_id: i64,
        /// The amount.
        amount: Money,
        /// Shown on the hosted page.
        description: String,
        /// Where the processor returns the debtor after paying.
        success_url: String,
        /// Where it returns them when they give up.
        cancel_url: String,
    },
    /// Save a payment method for a plan's off-session charges.
    Setup {
        /// The account.
        account: AccountId,
        /// Settle's plan row.
        plan_id: i64,
        /// The currency charged later.
        currency: Currency,
        /// Return address after saving.
        success_url: String,
        /// Return address when they give up.
        cancel_url: String,
    },
}

/// A hosted page created by the processor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The processor's id for the page (Stripe: `cs_...`).
    pub id: String,
    /// Where to send the debtor.
    pub url: String,
}

/// An off-session charge of a saved payment method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The account.
    pub account: AccountId,
    /// The instalment charged.
    pub instalment_id: i64,
    /// The processor's customer.
    pub customer: String,
    /// The saved payment method.
    pub method: String,
    /// The amount.
    pub amount: Money,
    /// Same key, same charge: a retried request never charges twice.
    pub idempotency_key: String,
}

/// What an off-session charge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// Paid; the processor's payment id.
    Succeeded(String),
    /// Declined, or the bank wants the debtor to authenticate: the debtor must act.
    Failed {
        /// The processor's payment id, when one was created.
        intent: Option<String>,
        /// The processor's reason code (e.g. `card_declined`, `authentication_required`).
        reason: String,
    },
}

/// A payment processor: Stripe, or the demo.
pub trait PaymentGateway: Send + Sync {
    /// The stored name of this processor (`stripe`, `demo`).
    fn name(&self) -> &'static str;
    /// Creates a hosted checkout page.
    fn checkout<'a>(&'a self, req: &'a CheckoutRequest) -> GatewayFuture<'a, Checkout>;
    /// Charges a saved payment method without the debtor present.
    fn charge<'a>(&'a self, req: &'a ChargeRequest) -> GatewayFuture<'a, ChargeOutcome>;
    /// Events for payments made since `since`, for reconciliation of missed webhooks.
    fn recent_events<'a>(&'a self, since: DateTime<Utc>) -> GatewayFuture<'a, Vec<ProcessorEvent>>;
}

/// A payment the debtor is about to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// The account paying.
    pub account: AccountId,
    /// What for.
    pub purpose: Purpose,
    /// How much.
    pub amount: Money,
    /// The accepted settlement it pays, if any.
    pub settlement_id: Option<i64>,
    /// Shown on the processor's page.
    pub description: String,
}

/// A payment as the receipt page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// Row id.
    pub id: i64,
    /// The account paying.
    pub account_id: AccountId,
    /// What it is for.
    pub purpose: String,
    /// The amount.
    pub amount: Money,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// The processor's payment id once known.
    pub intent_ref: Option<String>,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    account_id: i64,
    purpose: String,
    amount: i64,
    status: String,
    intent_ref: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    currency: String,
}

impl PaymentRow {
    fn into_record(self) -> Result<PaymentRecord> {
        let currency: Currency = self
            .currency
            .parse()
            .map_err(|e: domain::MoneyError| Error::Corrupt(e.to_string()))?;
        Ok(PaymentRecord {
            id: self.id,
            account_id: AccountId(self.account_id),
            purpose: self.purpose,
            amount: Money::from_minor(self.amount, currency)
                .map_err(|e| Error::Corrupt(e.to_string()))?,
            status: self.status,
            intent_ref: self.intent_ref,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// An accepted settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRecord {
    /// Row id.
    pub id: i64,
    /// The agreed lump sum.
    pub amount: Money,
    /// The balance when it was accepted (the rest is written off once paid).
    pub balance_then: Money,
    /// The last day to pay it.
    pub valid_until: NaiveDate,
    /// `accepted` or `paid`.
    pub status: String,
}

/// A message the payment flow asked to send, waiting for the messaging worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRequest {
    /// Row id.
    pub id: i64,
    /// The account to write to.
    pub account: AccountId,
    /// `payment_receipt`, `instalment_failed` or `plan_broken`.
    pub purpose: String,
    /// What it is about (`stripe:pi_...`, `instalment:<id>:<attempt>`, `plan:<id>`).
    pub subject: String,
    /// The portal page the message links to.
    pub link_path: String,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
}

/// Terms used when neither the creditor nor the agency set any: any amount from $1 up to
/// the balance, no plans, no settlements, no fees.
pub fn default_terms(currency: Currency) -> PaymentTerms {
    PaymentTerms {
        min_payment: Money::from_minor(100, currency).unwrap_or(Money::zero(currency)),
        plan: None,
        settlement: None,
        convenience_fee: None,
    }
}

impl Accounts {
    /// Message requests not yet handled, oldest first.
    pub async fn pending_message_requests(&self, limit: i64) -> Result<Vec<MessageRequest>> {
        type Row = (i64, i64, String, String, String, DateTime<Utc>);
        let rows: Vec<Row> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, account_id, purpose, subject, link_path, created_at
                 FROM message_requests WHERE handled_at IS NULL ORDER BY id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, account, purpose, subject, link_path, created_at)| MessageRequest {
                    id,
                    account: AccountId(account),
                    purpose,
                    subject,
                    link_path,
                    created_at,
                },
            )
            .collect())
    }

    /// Sets a creditor's payment terms (`creditor` empty: the agency's default); terms a
    /// debtor could not use are refused with every problem listed.
    pub async fn set_payment_terms(
        &self,
        agency: AgencyId,
        creditor: &str,
        terms: &PaymentTerms,
    ) -> Result<()> {
        let terms = terms
            .clone()
            .validate()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let json = serde_json::to_string(&terms).map_err(|e| Error::Invalid(e.to_string()))?;
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO payment_terms (agency_id, creditor, terms, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (agency_id, creditor) DO UPDATE SET terms = $3, updated_at = $4",
            )
            .bind(agency.0)
            .bind(creditor)
            .bind(&json)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The terms for an account: its creditor's, else its agency's default, else
    /// [`default_terms`].
    pub async fn payment_terms(&self, account: AccountId) -> Result<PaymentTerms> {
        let row: Option<(String, Option<String>)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT a.currency, t.terms FROM accounts a
                 LEFT JOIN payment_terms t ON t.agency_id = a.agency_id
                     AND t.creditor IN (a.creditor, '')
                 WHERE a.id = $1
                 ORDER BY LENGTH(t.creditor) DESC LIMIT 1",
            )
            .bind(account.0)
            .fetch_optional(pool)
            .await?
        });
        let (currency, terms): (String, Option<String>) = match row {
            Some((c, t)) => (c, t),
            None => return Err(Error::NotFound("account")),
        };
        let currency: Currency = currency
            .parse()
            .map_err(|e: domain::MoneyError| Error::Corrupt(e.to_string()))?;
        match terms {
            Some(json) => serde_json::from_str(&json).map_err(|e| Error::Corrupt(e.to_string())),
            None => Ok(default_terms(currency)),
        }
    }

    /// Records a payment about to be taken and asks the gateway for its checkout page.
    /// The row stays `pending` until the processor's event says it succeeded or failed.
    pub async fn start_checkout(
        &self,
        gateway: &dyn PaymentGateway,
        payment: &NewPayment,
        public_url: &str,
    ) -> Result<(i64, Checkout)> {
        let NewPayment {
            account,
            purpose,
            amount,
            settlement_id,
            ref description,
        } = *payment;
        let now = self.clock.now();
        let payment_id: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO payments (account_id, purpose, amount, processor, status,
                     settlement_id, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6) RETURNING id",
            )
            .bind(account.0)
            .bind(purpose.as_str())
            .bind(amount.minor())
            .bind(gateway.name())
            .bind(settlement_id)
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        let req = CheckoutRequest::Payment {
            account,
            payment_id,
            amount,
            description: description.clone(),
            success_url: format!("{public_url}/receipt/{payment_id}"),
            cancel_url: format!("{public_url}/pay?cancelled=1"),
        };
        let checkout = gateway
            .checkout(&req)
            .await
            .map_err(|e| Error::Unavailable(e.to_string()))?;
        with_db!(&self.db, pool => {
            sqlx::query("UPDATE payments SET checkout_ref = $1 WHERE id = $2")
                .bind(&checkout.id)
                .bind(payment_id)
                .execute(pool)
                .await?;
        });
        Ok((payment_id, checkout))
    }

    /// One payment, for its receipt.
    pub async fn payment(&self, id: i64) -> Result<PaymentRecord> {
        let row: Option<PaymentRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT p.id, p.account_id, p.purpose, p.amount, p.status, p.intent_ref,
                        p.created_at, p.updated_at, a.currency
                 FROM payments p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.ok_or(Error::NotFound("payment"))?.into_record()
    }

    /// The payment started for a checkout page, by the processor's id for the page.
    pub async fn payment_by_checkout(&self, checkout_ref: &str) -> Result<Option<i64>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM payments WHERE checkout_ref = $1")
                .bind(checkout_ref)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Records that the debtor accepted today's settlement offer; paying it is a checkout
    /// with [`Purpose::Settlement`].
    pub async fn accept_settlement(
        &self,
        account: AccountId,
        today: NaiveDate,
    ) -> Result<SettlementRecord> {
        let terms = self.payment_terms(account).await?;
        let balance = self.balance(account).await?;
        let offer = terms
            .settlement_offer(balance, today)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let now = self.clock.now();
        let id: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO settlements (account_id, amount, balance_then, valid_until, status,
                     accepted_at)
                 VALUES ($1, $2, $3, $4, 'accepted', $5) RETURNING id",
            )
            .bind(account.0)
            .bind(offer.amount.minor())
            .bind(balance.minor())
            .bind(offer.valid_until)
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        Ok(SettlementRecord {
            id,
            amount: offer.amount,
            balance_then: balance,
            valid_until: offer.valid_until,
            status: "accepted".into(),
        })
    }

    /// The account's settlement, if one was accepted and is still open or paid.
    pub async fn settlement(&self, account: AccountId) -> Result<Option<SettlementRecord>> {
        let row: Option<(i64, i64, i64, NaiveDate, String, String)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT s.id, s.amount, s.balance_then, s.valid_until, s.status, a.currency
                 FROM settlements s JOIN accounts a ON a.id = s.account_id
                 WHERE s.account_id = $1 ORDER BY s.id DESC LIMIT 1",
            )
            .bind(account.0)
            .fetch_optional(pool)
            .await?
        });
        let Some((id, amount, balance_then, valid_until, status, currency)) = row else {
            return Ok(None);
        };
        let currency: Currency = currency
            .parse()
            .map_err(|e: domain::MoneyError| Error::Corrupt(e.to_string()))?;
        let money = |m| Money::from_minor(m, currency).map_err(|e| Error::Corrupt(e.to_string()));
        Ok(Some(SettlementRecord {
            id,
            amount: money(amount)?,
            balance_then: money(balance_then)?,
            valid_until,
            status,
        }))
    }
}
