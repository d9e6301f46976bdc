//! Applying a processor's events to the ledger, exactly once.
//!
//! Each event is recorded by id in the same transaction as its effects, so a repeated
//! delivery is a no-op. Each effect is a posting keyed by the processor's own object (the
//! payment, the refund, the dispute), so the same money reported by two different events
//! (Checkout's completion and the payment's success), or events in any order, still lands
//! once.

use chrono::{DateTime, Utc};
use domain::{AccountId, Actor, IdempotencyKey, Money, Posting, PostingKind};

use crate::db::with_db;
use crate::{Accounts, Error, Result};

/// A processor event, already verified and read into what Settle needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorEvent {
    /// `stripe` or `demo`.
    pub processor: String,
    /// The processor's event id (`evt_...`), unique per processor.
    pub event_id: String,
    /// What happened.
    pub kind: EventKind,
}

/// What a processor event means for Settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// Money was received.
    PaymentSucceeded {
        /// The processor's payment id (`pi_...`): the posting's key.
        intent: String,
        /// The account paid (from the payment's metadata).
        account: AccountId,
        /// Amount received, minor units.
        amount_minor: i64,
        /// Settle's payment row, when it started one.
        payment_id: Option<i64>,
        /// The plan instalment paid, when it was one.
        instalment_id: Option<i64>,
    },
    /// A payment attempt failed.
    PaymentFailed {
        /// The processor's payment id.
        intent: String,
        /// Settle's payment row, when known.
        payment_id: Option<i64>,
        /// The processor's reason.
        reason: String,
    },
    /// Money was given back to the debtor.
    Refunded {
        /// The processor's refund id (`re_...`): the posting's key.
        refund: String,
        /// The account.
        account: AccountId,
        /// Amount refunded, minor units.
        amount_minor: i64,
    },
    /// The card network or bank took a payment back for good (a lost dispute).
    ChargebackLost {
        /// The processor's dispute id (`dp_...`): the posting's key.
        dispute: String,
        /// The account.
        account: AccountId,
        /// Amount taken back, minor units.
        amount_minor: i64,
    },
    /// A payment method was saved for a plan.
    SetupCompleted {
        /// Settle's plan row.
        plan_id: i64,
        /// The processor's customer.
        customer: String,
        /// The saved method.
        method: String,
    },
    /// Recorded, but changes nothing (an event type Settle does not act on).
    Ignored(String),
}

impl EventKind {
    /// A short name for logs and the events table.
    pub fn name(&self) -> &str {
        match self {
            EventKind::PaymentSucceeded { .. } => "payment_succeeded",
            EventKind::PaymentFailed { .. } => "payment_failed",
            EventKind::Refunded { .. } => "refunded",
            EventKind::ChargebackLost { .. } => "chargeback_lost",
            EventKind::SetupCompleted { .. } => "setup_completed",
            EventKind::Ignored(kind) => kind,
        }
    }
}

/// Whether an event changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// First delivery: its effects are stored.
    Applied,
    /// Seen before: nothing changed.
    Duplicate,
}

/// One ledger posting an event causes.
struct Effect {
    account: AccountId,
    posting: Posting,
}

fn effect(
    account: AccountId,
    kind: PostingKind,
    minor: i64,
    key: String,
    event_id: &str,
    currency: domain::Currency,
) -> Result<Effect> {
    let amount = Money::from_minor(minor, currency).map_err(|e| Error::Invalid(e.to_string()))?;
    let posting = Posting::new(
        kind,
        amount,
        IdempotencyKey::parse(&key)?,
        Actor::Processor(event_id.to_string()),
        String::new(),
    )?;
    Ok(Effect { account, posting })
}

impl Accounts {
    /// Applies a verified processor event once: records its id and its effects in one
    /// transaction. A repeated event id changes nothing and answers [`Applied::Duplicate`].
    pub async fn apply_event(&self, event: &ProcessorEvent) -> Result<Applied> {
        let now = self.clock.now();
        let mut effects = Vec::new();
        let account = match &event.kind {
            EventKind::PaymentSucceeded { account, .. }
            | EventKind::Refunded { account, .. }
            | EventKind::ChargebackLost { account, .. } => Some(*account),
            _ => None,
        };
        let currency = match account {
            Some(a) => Some(self.account_currency(a).await?),
            None => None,
        };
        match (&event.kind, currency) {
            (
                EventKind::PaymentSucceeded {
                    intent,
                    account,
                    amount_minor,
                    ..
                },
                Some(c),
            ) => effects.push(effect(
                *account,
                PostingKind::Payment,
                -amount_minor,
                format!("{}:{intent}", event.processor),
                &event.event_id,
                c,
            )?),
            (
                EventKind::Refunded {
                    refund,
                    account,
                    amount_minor,
                },
                Some(c),
            ) => effects.push(effect(
                *account,
                PostingKind::Refund,
                *amount_minor,
                format!("{}:{refund}", event.processor),
                &event.event_id,
                c,
            )?),
            (
                EventKind::ChargebackLost {
                    dispute,
                    account,
                    amount_minor,
                },
                Some(c),
            ) => effects.push(effect(
                *account,
                PostingKind::Chargeback,
                *amount_minor,
                format!("{}:{dispute}", event.processor),
                &event.event_id,
                c,
            )?),
            _ => {}
        }
        let (payment_id, instalment_id) = match &event.kind {
            EventKind::PaymentSucceeded {
                payment_id,
                instalment_id,
                ..
            } => (*payment_id, *instalment_id),
            EventKind::PaymentFailed { payment_id, .. } => (*payment_id, None),
            _ => (None, None),
        };
        let applied = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let fresh: Option<String> = sqlx::query_scalar(
                "INSERT INTO processor_events (processor, event_id, kind, received_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (processor, event_id) DO NOTHING
                 RETURNING event_id",
            )
            .bind(&event.processor)
            .bind(&event.event_id)
            .bind(event.kind.name())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if fresh.is_none() {
                tx.commit().await?;
                Applied::Duplicate
            } else {
                for e in &effects {
                    sqlx::query(
                        "INSERT INTO postings (account_id, kind, amount, idempotency_key, actor,
                             memo, posted_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (account_id, idempotency_key) DO NOTHING",
                    )
                    .bind(e.account.0)
                    .bind(e.posting.kind().as_str())
                    .bind(e.posting.amount().minor())
                    .bind(e.posting.key().as_str())
                    .bind(e.posting.actor().to_string())
                    .bind(e.posting.memo())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                match &event.kind {
                    EventKind::PaymentSucceeded { intent, account, .. } => {
                        // Payments succeed once: a late failure event for the same payment
                        // must not turn it back.
                        if let Some(id) = payment_id {
                            sqlx::query(
                                "UPDATE payments SET status = 'succeeded', intent_ref = $1,
                                     updated_at = $2
                                 WHERE id = $3 AND account_id = $4",
                            )
                            .bind(intent)
                            .bind(now)
                            .bind(id)
                            .bind(account.0)
                            .execute(&mut *tx)
                            .await?;
                            // A paid settlement forgives the rest of the balance it was
                            // agreed on, once, whatever else happens to the account later.
                            let settlement: Option<(i64, i64, i64)> = sqlx::query_as(
                                "SELECT s.id, s.balance_then, s.amount FROM settlements s
                                 JOIN payments p ON p.settlement_id = s.id
                                 WHERE p.id = $1 AND s.status = 'accepted'",
                            )
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                            if let Some((sid, balance_then, amount)) = settlement {
                                let rest = balance_then - amount;
                                if rest > 0 {
                                    sqlx::query(
                                        "INSERT INTO postings (account_id, kind, amount,
                                             idempotency_key, actor, memo, posted_at)
                                         VALUES ($1, 'settlement_write_off', $2, $3, $4,
                                             'settlement paid', $5)
                                         ON CONFLICT (account_id, idempotency_key) DO NOTHING",
                                    )
                                    .bind(account.0)
                                    .bind(-rest)
                                    .bind(format!("settlement:{sid}:write_off"))
                                    .bind(Actor::Processor(event.event_id.clone()).to_string())
                                    .bind(now)
                                    .execute(&mut *tx)
                                    .await?;
                                }
                                sqlx::query(
                                    "UPDATE settlements SET status = 'paid', paid_at = $1
                                     WHERE id = $2",
                                )
                                .bind(now)
                                .bind(sid)
                                .execute(&mut *tx)
                                .await?;
                            }
                        }
                        // The receipt message, once per payment however often it is reported.
                        let link = payment_id
                            .map(|p| format!("/receipt/{p}"))
                            .unwrap_or_else(|| "/account".into());
                        sqlx::query(
                            "INSERT INTO message_requests (account_id, purpose, subject, link_path,
                                 created_at)
                             VALUES ($1, 'payment_receipt', $2, $3, $4)
                             ON CONFLICT (purpose, subject) DO NOTHING",
                        )
                        .bind(account.0)
                        .bind(format!("{}:{intent}", event.processor))
                        .bind(link)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        if let Some(id) = instalment_id {
                            sqlx::query(
                                "UPDATE plan_instalments SET status = 'paid', intent_ref = $1
                                 WHERE id = $2",
                            )
                            .bind(intent)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    EventKind::PaymentFailed { intent, .. } => {
                        if let Some(id) = payment_id {
                            sqlx::query(
                                "UPDATE payments SET status = 'failed', intent_ref = $1,
                                     updated_at = $2
                                 WHERE id = $3 AND status = 'pending'",
                            )
                            .bind(intent)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    EventKind::SetupCompleted { plan_id, customer, method } => {
                        // A first card starts the plan; a replacement card takes over, and an
                        // instalment waiting for its retry is tried again at the next pass.
                        sqlx::query(
                            "UPDATE plans SET status = 'active', customer_ref = $1,
                                 method_ref = $2, updated_at = $3
                             WHERE id = $4 AND status IN ('awaiting_method', 'active')",
                        )
                        .bind(customer)
                        .bind(method)
                        .bind(now)
                        .bind(plan_id)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE plan_instalments SET next_attempt_at = NULL
                             WHERE plan_id = $1 AND status = 'scheduled'",
                        )
                        .bind(plan_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    _ => {}
                }
                tx.commit().await?;
                Applied::Applied
            }
        });
        if applied == Applied::Applied {
            crate::metrics::count_payment_event(&event.kind);
            tracing::info!(
                processor = %event.processor,
                event = %event.event_id,
                kind = event.kind.name(),
                "processor event applied"
            );
        }
        Ok(applied)
    }

    /// When the last processor event was received, for reconciliation windows.
    pub async fn last_event_at(&self, processor: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT MAX(received_at) FROM processor_events WHERE processor = $1",
            )
            .bind(processor)
            .fetch_one(pool)
            .await?
        }))
    }
}
