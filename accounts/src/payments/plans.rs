//! Payment plans: a schedule the debtor chose within the creditor's rules and authorized
//! (12 CFR 1005.10(b)), a saved payment method, and instalments the worker charges
//! off-session, retrying failures and marking the plan broken after repeated misses.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::payment::{Frequency, Instalment};
use domain::{AccountId, Currency, Money};

use super::{ChargeOutcome, ChargeRequest, CheckoutRequest, EventKind, PaymentGateway};
use crate::db::with_db;
use crate::payments::{Checkout, ProcessorEvent};
use crate::{Accounts, Error, Result};

/// Hours to wait before each retry of a failed instalment; after the last, it is missed.
pub const RETRY_AFTER_HOURS: [i64; 2] = [24, 72];

/// Missed instalments after which a plan is broken.
pub const MISSES_TO_BREAK: i64 = 2;

/// A plan as the debtor and the agency see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanView {
    /// Row id.
    pub id: i64,
    /// How often it is charged.
    pub frequency: Frequency,
    /// `awaiting_method`, `active`, `completed`, `broken` or `cancelled`.
    pub status: String,
    /// The authorization the debtor gave, word for word.
    pub authorization: String,
    /// When they gave it.
    pub authorized_at: DateTime<Utc>,
    /// Missed instalments so far.
    pub misses: i64,
    /// Every instalment in order.
    pub instalments: Vec<InstalmentView>,
}

/// One instalment of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalmentView {
    /// Row id.
    pub id: i64,
    /// Position, from 1.
    pub seq: i64,
    /// Due date.
    pub due: NaiveDate,
    /// Amount.
    pub amount: Money,
    /// `scheduled`, `processing`, `paid`, `failed` or `cancelled`.
    pub status: String,
    /// Charge attempts so far.
    pub attempts: i64,
}

/// An instalment the worker should charge now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueInstalment {
    /// Instalment row.
    pub id: i64,
    /// Its plan.
    pub plan_id: i64,
    /// The account.
    pub account: AccountId,
    /// Amount.
    pub amount: Money,
    /// Attempts before this one.
    pub attempts: i64,
    /// The processor's customer.
    pub customer: String,
    /// The saved method.
    pub method: String,
}

type PlanRow = (i64, String, String, String, DateTime<Utc>, i64, String);
type InstalmentRow = (i64, i64, NaiveDate, i64, String, i64);
type DueRow = (i64, i64, i64, i64, i64, String, String, String);

fn currency(code: &str) -> Result<Currency> {
    code.parse()
        .map_err(|e: domain::MoneyError| Error::Corrupt(e.to_string()))
}

fn money(minor: i64, c: Currency) -> Result<Money> {
    Money::from_minor(minor, c).map_err(|e| Error::Corrupt(e.to_string()))
}

impl Accounts {
    /// Records a plan the debtor authorized, with its schedule, and opens the processor's
    /// page to save a payment method; the plan becomes active when that completes. An
    /// earlier plan still waiting for its method is cancelled; an active one is refused.
    pub async fn create_plan(
        &self,
        gateway: &dyn PaymentGateway,
        account: AccountId,
        frequency: Frequency,
        schedule: &[Instalment],
        authorization: &str,
        public_url: &str,
    ) -> Result<(i64, Checkout)> {
        if let Some(p) = self.plan(account).await? {
            if p.status == "active" {
                return Err(Error::Invalid(
                    "this account already has an active plan".into(),
                ));
            }
        }
        let now = self.clock.now();
        let c = self.account_currency(account).await?;
        let plan_id: i64 = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE plans SET status = 'cancelled', updated_at = $1
                 WHERE account_id = $2 AND status = 'awaiting_method'",
            )
            .bind(now)
            .bind(account.0)
            .execute(&mut *tx)
            .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO plans (account_id, frequency, status, authorization_text,
                     authorized_at, processor, created_at, updated_at)
                 VALUES ($1, $2, 'awaiting_method', $3, $4, $5, $4, $4) RETURNING id",
            )
            .bind(account.0)
            .bind(frequency.as_str())
            .bind(authorization)
            .bind(now)
            .bind(gateway.name())
            .fetch_one(&mut *tx)
            .await?;
            for (n, i) in schedule.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO plan_instalments (plan_id, seq, due_on, amount, status)
                     VALUES ($1, $2, $3, $4, 'scheduled')",
                )
                .bind(id)
                .bind(n as i64 + 1)
                .bind(i.due)
                .bind(i.amount.minor())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            id
        });
        let checkout = self
            .open_setup(
                gateway,
                account,
                plan_id,
                c,
                &format!("{public_url}/plan?cancelled=1"),
                public_url,
            )
            .await?;
        Ok((plan_id, checkout))
    }

    /// Opens the processor's page to save a card for a plan and remembers the page, so its
    /// completion event finds the plan.
    async fn open_setup(
        &self,
        gateway: &dyn PaymentGateway,
        account: AccountId,
        plan_id: i64,
        currency: Currency,
        cancel_url: &str,
        public_url: &str,
    ) -> Result<Checkout> {
        let req = CheckoutRequest::Setup {
            account,
            plan_id,
            currency,
            success_url: format!("{public_url}/plan?saved=1"),
            cancel_url: cancel_url.to_string(),
        };
        let checkout = gateway
            .checkout(&req)
            .await
            .map_err(|e| Error::Unavailable(e.to_string()))?;
        with_db!(&self.db, pool => {
            sqlx::query("UPDATE plans SET setup_ref = $1 WHERE id = $2")
                .bind(&checkout.id)
                .bind(plan_id)
                .execute(pool)
                .await?;
        });
        Ok(checkout)
    }

    /// Opens the processor's page to save a different card for the account's active plan
    /// (the link a failed-instalment message leads to). The plan goes on with the new card.
    pub async fn replace_plan_method(
        &self,
        gateway: &dyn PaymentGateway,
        account: AccountId,
        public_url: &str,
    ) -> Result<Checkout> {
        let plan = self
            .plan(account)
            .await?
            .filter(|p| p.status == "active")
            .ok_or(Error::NotFound("active plan"))?;
        let c = self.account_currency(account).await?;
        self.open_setup(
            gateway,
            account,
            plan.id,
            c,
            &format!("{public_url}/plan"),
            public_url,
        )
        .await
    }

    /// The account's latest plan that was not cancelled before it started.
    pub async fn plan(&self, account: AccountId) -> Result<Option<PlanView>> {
        let row: Option<PlanRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT p.id, p.frequency, p.status, p.authorization_text, p.authorized_at,
                        p.misses, a.currency
                 FROM plans p JOIN accounts a ON a.id = p.account_id
                 WHERE p.account_id = $1
                 ORDER BY (p.status = 'cancelled'), p.id DESC LIMIT 1",
            )
            .bind(account.0)
            .fetch_optional(pool)
            .await?
        });
        let Some((id, frequency, status, authorization, authorized_at, misses, code)) = row else {
            return Ok(None);
        };
        let c = currency(&code)?;
        let rows: Vec<InstalmentRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, seq, due_on, amount, status, attempts FROM plan_instalments
                 WHERE plan_id = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let instalments = rows
            .into_iter()
            .map(|(id, seq, due, amount, status, attempts)| {
                Ok(InstalmentView {
                    id,
                    seq,
                    due,
                    amount: money(amount, c)?,
                    status,
                    attempts,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(PlanView {
            id,
            frequency: Frequency::parse(&frequency)
                .ok_or_else(|| Error::Corrupt(format!("frequency {frequency}")))?,
            status,
            authorization,
            authorized_at,
            misses,
            instalments,
        }))
    }

    /// Moves the account's next scheduled instalment to `new_due` within the creditor's
    /// rules (to today to pay it early). The plan goes on; nothing is cancelled.
    pub async fn move_next_instalment(
        &self,
        account: AccountId,
        new_due: NaiveDate,
        today: NaiveDate,
    ) -> Result<()> {
        let plan = self
            .plan(account)
            .await?
            .filter(|p| p.status == "active" || p.status == "awaiting_method")
            .ok_or(Error::NotFound("plan"))?;
        let rules = self
            .payment_terms(account)
            .await?
            .plan
            .ok_or_else(|| Error::Invalid("plans are not offered".into()))?;
        let index = plan
            .instalments
            .iter()
            .position(|i| i.status == "scheduled")
            .ok_or(Error::NotFound("scheduled instalment"))?;
        let schedule: Vec<Instalment> = plan
            .instalments
            .iter()
            .map(|i| Instalment {
                due: i.due,
                amount: i.amount,
            })
            .collect();
        domain::payment::move_instalment(&schedule, index, new_due, &rules, today)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE plan_instalments SET due_on = $1, next_attempt_at = NULL
                 WHERE id = $2 AND status = 'scheduled'",
            )
            .bind(new_due)
            .bind(plan.instalments[index].id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Re-cuts the active plan's remaining scheduled instalments at `amount` each, within
    /// the creditor's rules (see [`domain::payment::reamount`]), and appends the debtor's
    /// `amendment` (what they authorized) to the plan's authorization text. Paid and missed
    /// instalments stay as they were.
    pub async fn change_instalment_amount(
        &self,
        account: AccountId,
        amount: Money,
        amendment: &str,
    ) -> Result<Vec<Instalment>> {
        let plan = self
            .plan(account)
            .await?
            .filter(|p| p.status == "active")
            .ok_or(Error::NotFound("active plan"))?;
        let rules = self
            .payment_terms(account)
            .await?
            .plan
            .ok_or_else(|| Error::Invalid("plans are not offered".into()))?;
        let scheduled: Vec<&InstalmentView> = plan
            .instalments
            .iter()
            .filter(|i| i.status == "scheduled")
            .collect();
        let next = scheduled
            .first()
            .ok_or(Error::NotFound("scheduled instalment"))?;
        let mut remaining = Money::zero(amount.currency());
        for i in &scheduled {
            remaining = remaining
                .checked_add(i.amount)
                .map_err(|e| Error::Invalid(e.to_string()))?;
        }
        let at = domain::payment::PlanPosition {
            first: plan.instalments.first().map(|i| i.due).unwrap_or(next.due),
            done: u32::try_from(plan.instalments.len() - scheduled.len()).unwrap_or(u32::MAX),
            next_due: next.due,
            remaining,
            frequency: plan.frequency,
        };
        let schedule = domain::payment::reamount(&at, amount, &rules)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let last_seq = plan
            .instalments
            .iter()
            .filter(|i| i.status != "scheduled")
            .map(|i| i.seq)
            .max()
            .unwrap_or(0);
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            // Only rows nobody has started charging: a claimed one is left alone.
            let removed = sqlx::query(
                "DELETE FROM plan_instalments WHERE plan_id = $1 AND status = 'scheduled'",
            )
            .bind(plan.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if removed as usize != scheduled.len() {
                return Err(Error::Invalid("the plan changed meanwhile; try again".into()));
            }
            for (n, i) in schedule.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO plan_instalments (plan_id, seq, due_on, amount, status)
                     VALUES ($1, $2, $3, $4, 'scheduled')",
                )
                .bind(plan.id)
                .bind(last_seq + 1 + n as i64)
                .bind(i.due)
                .bind(i.amount.minor())
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE plans SET authorization_text = authorization_text || $1, updated_at = $2
                 WHERE id = $3",
            )
            .bind(format!("\n\n{amendment}"))
            .bind(now)
            .bind(plan.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(schedule)
    }

    /// Cancels the account's plan: no further instalment is charged.
    pub async fn cancel_plan(&self, account: AccountId) -> Result<()> {
        let plan = self.plan(account).await?.ok_or(Error::NotFound("plan"))?;
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE plans SET status = 'cancelled', updated_at = $1
                 WHERE id = $2 AND status IN ('awaiting_method', 'active')",
            )
            .bind(now)
            .bind(plan.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE plan_instalments SET status = 'cancelled'
                 WHERE plan_id = $1 AND status = 'scheduled'",
            )
            .bind(plan.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Claims up to `limit` instalments due now on active plans whose account has no open
    /// dispute, bankruptcy or death on record. A claimed instalment is `processing` until
    /// [`Accounts::record_charge`]; on PostgreSQL concurrent workers skip each other's rows.
    pub async fn claim_due_instalments(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DueInstalment>> {
        let today = now.date_naive();
        let select = "SELECT i.id, i.plan_id, p.account_id, i.amount, i.attempts,
                    p.customer_ref, p.method_ref, a.currency
             FROM plan_instalments i
             JOIN plans p ON p.id = i.plan_id
             JOIN accounts a ON a.id = p.account_id
             WHERE i.status = 'scheduled' AND p.status = 'active'
               AND p.customer_ref IS NOT NULL AND p.method_ref IS NOT NULL
               AND i.due_on <= $1
               AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= $2)
               AND NOT EXISTS (SELECT 1 FROM disputes d
                               WHERE d.account_id = p.account_id AND d.status = 'open')
               AND NOT EXISTS (SELECT 1 FROM holds h
                               WHERE h.account_id = p.account_id AND h.cleared_at IS NULL
                                 AND h.kind IN ('bankruptcy', 'deceased'))
             ORDER BY i.due_on, i.id
             LIMIT $3";
        // SQLite: the write lock from the start. A plain BEGIN reads, then fails with
        // "database is locked" at the UPDATE if another writer came in between.
        let (begin, sql) = match self.engine() {
            crate::Engine::Postgres => ("BEGIN", format!("{select} FOR UPDATE OF i SKIP LOCKED")),
            crate::Engine::Sqlite => ("BEGIN IMMEDIATE", select.to_string()),
        };
        let rows: Vec<DueRow> = with_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let rows: Vec<DueRow> = sqlx::query_as(&sql)
                .bind(today)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            for r in &rows {
                sqlx::query("UPDATE plan_instalments SET status = 'processing' WHERE id = $1")
                    .bind(r.0)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            rows
        });
        rows.into_iter()
            .map(
                |(id, plan_id, account, amount, attempts, customer, method, code)| {
                    Ok(DueInstalment {
                        id,
                        plan_id,
                        account: AccountId(account),
                        amount: money(amount, currency(&code)?)?,
                        attempts,
                        customer,
                        method,
                    })
                },
            )
            .collect()
    }

    /// Stores what a charge did: a success is posted like the processor's own event (same
    /// key, so the webhook for it changes nothing more); a failure is retried later, and
    /// after the last retry the instalment is missed and the plan may break.
    pub async fn record_charge(
        &self,
        processor: &str,
        due: &DueInstalment,
        outcome: &ChargeOutcome,
    ) -> Result<()> {
        let now = self.clock.now();
        match outcome {
            ChargeOutcome::Succeeded(intent) => {
                self.apply_event(&ProcessorEvent {
                    processor: processor.to_string(),
                    event_id: format!("charge:{}:{}", due.id, due.attempts + 1),
                    kind: EventKind::PaymentSucceeded {
                        intent: intent.clone(),
                        account: due.account,
                        amount_minor: due.amount.minor(),
                        payment_id: None,
                        instalment_id: Some(due.id),
                    },
                })
                .await?;
                self.complete_plan_if_paid(due.plan_id).await?;
            }
            ChargeOutcome::Failed { intent, reason } => {
                let attempts = due.attempts + 1;
                let retry = usize::try_from(attempts - 1)
                    .ok()
                    .and_then(|i| RETRY_AFTER_HOURS.get(i));
                tracing::warn!(instalment = due.id, attempts, %reason, "instalment charge failed");
                with_db!(&self.db, pool => {
                    let mut tx = pool.begin().await?;
                    // The debtor is told, with a link to the plan page to fix the card.
                    sqlx::query(
                        "INSERT INTO message_requests (account_id, purpose, subject, link_path,
                             created_at)
                         VALUES ($1, 'instalment_failed', $2, '/plan', $3)
                         ON CONFLICT (purpose, subject) DO NOTHING",
                    )
                    .bind(due.account.0)
                    .bind(format!("instalment:{}:{attempts}", due.id))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    match retry {
                        Some(hours) => {
                            sqlx::query(
                                "UPDATE plan_instalments SET status = 'scheduled', attempts = $1,
                                     next_attempt_at = $2, intent_ref = $3
                                 WHERE id = $4",
                            )
                            .bind(attempts)
                            .bind(now + Duration::hours(*hours))
                            .bind(intent)
                            .bind(due.id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        None => {
                            sqlx::query(
                                "UPDATE plan_instalments SET status = 'failed', attempts = $1,
                                     intent_ref = $2
                                 WHERE id = $3",
                            )
                            .bind(attempts)
                            .bind(intent)
                            .bind(due.id)
                            .execute(&mut *tx)
                            .await?;
                            sqlx::query(
                                "UPDATE plans SET misses = misses + 1, updated_at = $1
                                 WHERE id = $2",
                            )
                            .bind(now)
                            .bind(due.plan_id)
                            .execute(&mut *tx)
                            .await?;
                            sqlx::query(
                                "UPDATE plans SET status = 'broken' WHERE id = $1
                                     AND status = 'active' AND misses >= $2",
                            )
                            .bind(due.plan_id)
                            .bind(MISSES_TO_BREAK)
                            .execute(&mut *tx)
                            .await?;
                            sqlx::query(
                                "UPDATE plan_instalments SET status = 'cancelled'
                                 WHERE plan_id = $1 AND status = 'scheduled'
                                   AND EXISTS (SELECT 1 FROM plans WHERE id = $1
                                               AND status = 'broken')",
                            )
                            .bind(due.plan_id)
                            .execute(&mut *tx)
                            .await?;
                            sqlx::query(
                                "INSERT INTO message_requests (account_id, purpose, subject,
                                     link_path, created_at)
                                 SELECT account_id, 'plan_broken', 'plan:' || id, '/plan', $2
                                 FROM plans WHERE id = $1 AND status = 'broken'
                                 ON CONFLICT (purpose, subject) DO NOTHING",
                            )
                            .bind(due.plan_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    tx.commit().await?;
                });
            }
        }
        Ok(())
    }

    async fn complete_plan_if_paid(&self, plan_id: i64) -> Result<()> {
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE plans SET status = 'completed', updated_at = $1
                 WHERE id = $2 AND status = 'active' AND NOT EXISTS (
                     SELECT 1 FROM plan_instalments WHERE plan_id = $2 AND status <> 'paid')",
            )
            .bind(now)
            .bind(plan_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// One pass of the plan worker: claims due instalments, charges each through the
    /// gateway with a key that makes a retried request charge once, and records the result.
    /// Returns how many were charged successfully and how many failed.
    pub async fn charge_due_instalments(
        &self,
        gateway: &dyn PaymentGateway,
        limit: i64,
    ) -> Result<(usize, usize)> {
        let now = self.clock.now();
        let due = self.claim_due_instalments(now, limit).await?;
        let (mut ok, mut failed) = (0, 0);
        for d in &due {
            let req = ChargeRequest {
                account: d.account,
                instalment_id: d.id,
                customer: d.customer.clone(),
                method: d.method.clone(),
                amount: d.amount,
                idempotency_key: format!("settle-instalment-{}-{}", d.id, d.attempts + 1),
            };
            let outcome = match gateway.charge(&req).await {
                Ok(o) => o,
                // Unreachable processor: not the debtor's failure. Back to scheduled, same
                // attempt number, so the retry reuses the idempotency key.
                Err(e) => {
                    tracing::warn!(instalment = d.id, "charge not attempted: {e}");
                    with_db!(&self.db, pool => {
                        sqlx::query(
                            "UPDATE plan_instalments SET status = 'scheduled' WHERE id = $1",
                        )
                        .bind(d.id)
                        .execute(pool)
                        .await?;
                    });
                    continue;
                }
            };
            if matches!(outcome, ChargeOutcome::Succeeded(_)) {
                ok += 1;
            } else {
                failed += 1;
            }
            self.record_charge(gateway.name(), d, &outcome).await?;
        }
        Ok((ok, failed))
    }
}
