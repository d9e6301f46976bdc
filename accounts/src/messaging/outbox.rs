//! The sending side of the outbox: claim, send once, record what the provider said.
//!
//! At most once: a row is marked `sending` (claimed, in its own committed transaction)
//! before the provider is called. A row still `sending` after the lease was cut off by a
//! crash between the claim and the provider's answer; it goes to `review`, never back to
//! `pending`, because the provider may have sent it.

use std::collections::HashMap;
use std::num::NonZeroU32;

use chrono::{DateTime, Duration, Utc};
use domain::compliance::wire;
use futures_util::StreamExt;
use governor::{Quota, RateLimiter};
use serde::Serialize;

use domain::compliance::Channel;

use super::port::{ChatGateway, OutboundChat, OutboundSms, SendOutcome, SmsGateway, CHAT_BLOCKED};
use crate::compliance::{ids_json, in_list};
use crate::db::with_db;
use crate::{Accounts, Engine, Error, Result};

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting to be sent.
    Pending,
    /// Claimed by a worker; the provider is being called.
    Sending,
    /// The provider took it.
    Sent,
    /// The provider reported delivery.
    Delivered,
    /// Refused or undelivered (a bounce): not retried.
    Failed,
    /// May or may not have been sent: a person decides.
    Review,
    /// Not sent: no longer allowed when its turn came, or the debtor opted out, disputed
    /// or a hold was set meanwhile.
    Cancelled,
}

impl OutboxStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Review => "review",
            OutboxStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => OutboxStatus::Pending,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "delivered" => OutboxStatus::Delivered,
            "failed" => OutboxStatus::Failed,
            "review" => OutboxStatus::Review,
            "cancelled" => OutboxStatus::Cancelled,
            other => return Err(Error::Corrupt(format!("outbox status `{other}`"))),
        })
    }
}

/// One outbound message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    /// Row id.
    pub id: i64,
    /// The account.
    pub account_id: i64,
    /// The compliance decision that allowed it.
    pub decision_id: i64,
    /// The medium.
    pub channel: String,
    /// What it is about (`reminder`, `help`...).
    pub kind: String,
    /// The phone number (or chat) it goes to.
    pub recipient: String,
    /// The text.
    pub body: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the provider took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Provider calls made.
    pub attempts: i64,
    /// The provider's message id.
    pub provider_id: Option<String>,
    /// The last error or bounce.
    pub error: Option<String>,
}

type OutboxRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    i64,
    Option<String>,
    Option<String>,
);

const OUTBOX_COLUMNS: &str =
    "id, account_id, decision_id, channel, kind, recipient, body, status, \
    created_at, sent_at, CAST(attempts AS BIGINT), provider_id, error";

fn message(row: OutboxRow) -> Result<OutboxMessage> {
    let (
        id,
        account_id,
        decision_id,
        channel,
        kind,
        recipient,
        body,
        status,
        created_at,
        sent_at,
        attempts,
        provider_id,
        error,
    ) = row;
    Ok(OutboxMessage {
        id,
        account_id,
        decision_id,
        channel,
        kind,
        recipient,
        body,
        status: OutboxStatus::parse(&status)?,
        created_at,
        sent_at,
        attempts,
        provider_id,
        error,
    })
}

/// How a sending pass works.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// Names this worker in claims (`host:pid`).
    pub worker: String,
    /// Rows claimed per transaction when no per-sender limit applies.
    pub batch: i64,
    /// Provider calls in flight at once.
    pub concurrency: usize,
    /// A `sending` row older than this was cut off by a crash and goes to review.
    pub lease: Duration,
    /// Provider calls that said "not taken" before a row fails for good.
    pub max_attempts: i64,
    /// The sending number.
    pub from: String,
    /// Where the provider reports delivery (`https://.../webhooks/twilio/status`); each
    /// message adds `?outbox=<id>`, so a report arriving before the send is recorded
    /// still finds its row.
    pub status_callback: Option<String>,
    /// Messages per second from one sender (Twilio long codes take about 1); `None` lifts
    /// the limit. Rows are claimed only as the limit lets them go, so none waits claimed.
    pub per_second: Option<NonZeroU32>,
}

/// What a sending pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SendReport {
    /// Taken by the provider.
    pub sent: u64,
    /// Refused for good (bounces).
    pub failed: u64,
    /// Not taken; will be tried again.
    pub retried: u64,
    /// Outcome unknown, marked for review.
    pub review: u64,
    /// Found cut off by a crash and marked for review.
    pub abandoned: u64,
    /// No longer allowed when their turn came (deferred again, or cancelled).
    pub rechecked: u64,
}

/// A claimed row with what its send-time check needs.
struct Claimed {
    id: i64,
    recipient: String,
    body: String,
    markup: Option<String>,
    agency: i64,
    facts: String,
}

/// Waits before the next try of a row the provider did not take.
fn backoff(attempts: i64) -> Duration {
    Duration::seconds(30 * (1_i64 << attempts.clamp(0, 6)))
}

impl Accounts {
    /// Sends every ready SMS row through `gateway`: first marks rows abandoned by a crash
    /// for review, then claims and sends until none is ready. Each claimed row is checked
    /// again against the compliance engine with the facts it was decided on and the time
    /// it is now (a queue can be long: a reminder decided at 20:59 must not leave at 21:05).
    pub async fn send_outbox(
        &self,
        gateway: &dyn SmsGateway,
        options: &SenderOptions,
    ) -> Result<SendReport> {
        let send = |row: Claimed| async move {
            let sms = OutboundSms {
                outbox_id: row.id,
                from: options.from.clone(),
                to: row.recipient,
                body: row.body,
                status_callback: options
                    .status_callback
                    .as_ref()
                    .map(|url| format!("{url}?outbox={}", row.id)),
            };
            gateway.send(&sms).await
        };
        self.send_channel(Channel::Sms, gateway.name(), options, send)
            .await
    }

    /// Sends every ready Telegram row through `gateway`, like [`Accounts::send_outbox`]
    /// does for texts; a chat whose user blocked the bot is marked, and nothing more is
    /// queued for it.
    pub async fn send_chats(
        &self,
        gateway: &dyn ChatGateway,
        options: &SenderOptions,
    ) -> Result<SendReport> {
        let send = |row: Claimed| async move {
            let Ok(chat_id) = row.recipient.parse::<i64>() else {
                return SendOutcome::Rejected {
                    code: "bad_recipient".into(),
                    message: format!("`{}` is not a chat id", row.recipient),
                };
            };
            let message = OutboundChat {
                outbox_id: row.id,
                chat_id,
                text: row.body,
                markup: row.markup,
            };
            let outcome = gateway.send(&message).await;
            if matches!(&outcome, SendOutcome::Rejected { code, .. } if code == CHAT_BLOCKED) {
                if let Err(e) = self.mark_chat_blocked(chat_id).await {
                    tracing::error!(chat = chat_id, "blocked chat not marked: {e}");
                }
            }
            outcome
        };
        self.send_channel(Channel::Telegram, gateway.name(), options, send)
            .await
    }

    async fn send_channel<F, Fut>(
        &self,
        channel: Channel,
        provider: &'static str,
        options: &SenderOptions,
        send: F,
    ) -> Result<SendReport>
    where
        F: Fn(Claimed) -> Fut,
        Fut: std::future::Future<Output = SendOutcome>,
    {
        let mut report = SendReport {
            abandoned: self.review_abandoned(options.lease).await?,
            ..SendReport::default()
        };
        let limiter = options
            .per_second
            .map(|n| (n, RateLimiter::direct(Quota::per_second(n))));
        let mut policies = HashMap::new();
        loop {
            let chunk = match &limiter {
                Some((n, limiter)) => {
                    limiter
                        .until_n_ready(*n)
                        .await
                        .map_err(|e| Error::Invalid(e.to_string()))?;
                    i64::from(n.get())
                }
                None => options.batch,
            };
            let claimed = self.claim_outbox(channel, options, chunk).await?;
            let n = claimed.len() as i64;
            let mut ready = Vec::with_capacity(claimed.len());
            for row in claimed {
                if self.still_allowed(&row, &mut policies).await? {
                    ready.push(row);
                } else {
                    report.rechecked += 1;
                }
            }
            let send = &send;
            let outcomes: Vec<Result<Option<SendOutcome>>> = futures_util::stream::iter(ready)
                .map(|row| async move {
                    let id = row.id;
                    if !self.touch_claim(id, &options.worker).await? {
                        // Someone marked it for review meanwhile: it must not go now.
                        return Ok(None);
                    }
                    let outcome = send(row).await;
                    self.record_send(id, provider, &outcome, options).await?;
                    Ok(Some(outcome))
                })
                .buffer_unordered(options.concurrency.max(1))
                .collect()
                .await;
            for outcome in outcomes {
                match outcome? {
                    Some(SendOutcome::Accepted { .. }) => report.sent += 1,
                    Some(SendOutcome::Rejected { .. }) => report.failed += 1,
                    Some(SendOutcome::NotAccepted { .. }) => report.retried += 1,
                    Some(SendOutcome::Unknown { .. }) => report.review += 1,
                    None => {}
                }
            }
            if n < chunk {
                break;
            }
        }
        Ok(report)
    }

    /// Rows left `sending` longer than `lease` were cut off by a crash: those handed to the
    /// provider go to review (returns how many), the others are pending again.
    async fn review_abandoned(&self, lease: Duration) -> Result<u64> {
        let now = self.clock.now();
        let (reviewed, released) = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let reviewed = sqlx::query(
                "UPDATE outbox SET status = 'review', updated_at = $1,
                    error = 'the worker stopped after handing it to the provider and before recording the answer; it may have been sent'
                 WHERE status = 'sending' AND claimed_at < $2 AND handed_at IS NOT NULL",
            )
            .bind(now)
            .bind(now - lease)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let released = sqlx::query(
                "UPDATE outbox SET status = 'pending', updated_at = $1, attempts = attempts - 1
                 WHERE status = 'sending' AND claimed_at < $2 AND handed_at IS NULL",
            )
            .bind(now)
            .bind(now - lease)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            (reviewed, released)
        });
        if reviewed + released > 0 {
            tracing::warn!(
                reviewed,
                released,
                "outbox rows abandoned mid-send: handed ones marked for review, the rest pending again"
            );
        }
        Ok(reviewed)
    }

    /// Claims up to `limit` ready rows in its own committed transaction, most urgent first
    /// (answers and confirmations before reminders).
    async fn claim_outbox(
        &self,
        channel: Channel,
        options: &SenderOptions,
        limit: i64,
    ) -> Result<Vec<Claimed>> {
        let now = self.clock.now();
        let engine = self.engine();
        let (begin, lock) = match engine {
            Engine::Sqlite => ("BEGIN IMMEDIATE", ""),
            Engine::Postgres => ("BEGIN", "FOR UPDATE OF o SKIP LOCKED"),
        };
        let select = format!(
            "SELECT o.id, o.recipient, o.body, o.markup, d.agency_id, d.facts FROM outbox o
             JOIN compliance_decisions d ON d.id = o.decision_id
             WHERE o.status = 'pending' AND o.channel = $3 AND o.not_before <= $1
             ORDER BY o.priority, o.not_before, o.id LIMIT $2 {lock}"
        );
        let set = in_list(engine);
        let update = format!(
            "UPDATE outbox SET status = 'sending', claimed_at = $2, claimed_by = $3,
                handed_at = NULL, attempts = attempts + 1, updated_at = $2
             WHERE id IN {set}"
        );
        with_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin).await?;
            type Row = (i64, String, String, Option<String>, i64, String);
            let rows: Vec<Row> = sqlx::query_as(&select)
                .bind(now)
                .bind(limit)
                .bind(channel.as_str())
                .fetch_all(&mut *tx)
                .await?;
            if !rows.is_empty() {
                let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
                sqlx::query(&update)
                    .bind(ids_json(&ids))
                    .bind(now)
                    .bind(&options.worker)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(rows
                .into_iter()
                .map(|(id, recipient, body, markup, agency, facts)| Claimed {
                    id,
                    recipient,
                    body,
                    markup,
                    agency,
                    facts,
                })
                .collect())
        })
    }

    /// Replays the row's decision with its facts at the current time. When the answer is
    /// no longer "allow", logs the new decision and puts the row back (defer) or cancels
    /// it (deny); returns whether it may go now.
    async fn still_allowed(
        &self,
        row: &Claimed,
        policies: &mut HashMap<i64, domain::compliance::Policy>,
    ) -> Result<bool> {
        let now = self.clock.now();
        let policy = match policies.entry(row.agency) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(self.agency_policy(domain::AgencyId(row.agency)).await?)
            }
        };
        let mut question: serde_json::Value =
            serde_json::from_str(&row.facts).map_err(|e| Error::Corrupt(e.to_string()))?;
        question["now"] = serde_json::Value::String(wire::rfc3339(now));
        let answer = wire::answer(question.clone(), policy);
        let verdict = answer["decision"].as_str().unwrap_or("deny");
        if verdict == "allow" {
            return Ok(true);
        }
        let list = |key: &str, sep: &str| {
            answer[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(sep)
                })
                .unwrap_or_default()
        };
        let reasons = list("reasons", ",");
        let next: Option<DateTime<Utc>> = answer["next_allowed_at"]
            .as_str()
            .and_then(|t| t.parse().ok());
        let (status, not_before) = match (verdict, next) {
            ("defer", Some(at)) => ("pending", Some(at)),
            _ => ("cancelled", None),
        };
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO compliance_decisions (agency_id, account_id, decided_at, channel,
                    purpose, decision, reasons, citations, next_allowed_at, required_content, facts)
                 SELECT $1, account_id, $2, channel, $3, $4, $5, $6, $7, '', $8
                 FROM outbox WHERE id = $9",
            )
            .bind(row.agency)
            .bind(now)
            .bind(question["purpose"].as_str().unwrap_or(""))
            .bind(verdict)
            .bind(&reasons)
            .bind(list("citations", " | "))
            .bind(next)
            .bind(question.to_string())
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE outbox SET status = $2, not_before = COALESCE($3, not_before),
                    error = $4, updated_at = $5
                 WHERE id = $1 AND status = 'sending'",
            )
            .bind(row.id)
            .bind(status)
            .bind(not_before)
            .bind(format!("at its turn to go: {verdict} ({reasons})"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        tracing::info!(outbox = row.id, verdict, reasons = %reasons, "message rechecked before sending");
        Ok(false)
    }

    /// Marks the row handed to the provider (renewing the claim) right before the call,
    /// committed; false when the row is no longer this worker's to send.
    async fn touch_claim(&self, id: i64, worker: &str) -> Result<bool> {
        let now = self.clock.now();
        Ok(with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE outbox SET claimed_at = $2, handed_at = $2
                 WHERE id = $1 AND status = 'sending' AND claimed_by = $3",
            )
            .bind(id)
            .bind(now)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
        }) == 1)
    }

    async fn record_send(
        &self,
        id: i64,
        provider: &str,
        outcome: &SendOutcome,
        options: &SenderOptions,
    ) -> Result<()> {
        let now = self.clock.now();
        let (status, provider_id, error, not_before): (&str, Option<&str>, Option<String>, _) =
            match outcome {
                SendOutcome::Accepted { provider_id, .. } => {
                    ("sent", Some(provider_id.as_str()), None, None)
                }
                SendOutcome::Rejected { code, message } => {
                    ("failed", None, Some(format!("{code}: {message}")), None)
                }
                SendOutcome::NotAccepted { detail } => {
                    ("pending", None, Some(detail.clone()), Some(()))
                }
                SendOutcome::Unknown { detail } => ("review", None, Some(detail.clone()), None),
            };
        with_db!(&self.db, pool => {
            let attempts: i64 = sqlx::query_scalar(
                "SELECT CAST(attempts AS BIGINT) FROM outbox WHERE id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await?;
            let (status, not_before) = match not_before {
                Some(()) if attempts >= options.max_attempts => ("failed", None),
                Some(()) => ("pending", Some(now + backoff(attempts))),
                None => (status, None),
            };
            sqlx::query(
                "UPDATE outbox SET status = $2, provider = $3, provider_id = $4, error = $5,
                    sent_at = CASE WHEN $2 = 'sent' THEN $6 ELSE sent_at END,
                    not_before = COALESCE($7, not_before), updated_at = $6
                 WHERE id = $1 AND (status = 'sending' OR (status = 'review' AND claimed_by = $8))",
            )
            .bind(id)
            .bind(status)
            .bind(provider)
            .bind(provider_id)
            .bind(error.as_deref())
            .bind(now)
            .bind(not_before)
            .bind(&options.worker)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Applies a provider's delivery report (`delivered`, `undelivered`, `failed`...) to the
    /// row it is about: by Settle's outbox id when the report carries it, else by the
    /// provider's id. Returns false when no such row exists. A report can arrive before the
    /// send is recorded, or for a row marked for review: it settles what happened.
    /// Undelivered and failed reports are kept as the row's error: they are the bounces
    /// the credit-reporting check reads.
    pub async fn record_delivery(
        &self,
        outbox_id: Option<i64>,
        provider_id: &str,
        status: &str,
        error_code: Option<&str>,
    ) -> Result<bool> {
        let now = self.clock.now();
        let (new_status, error) = match status {
            "delivered" | "read" => ("delivered", None),
            "undelivered" | "failed" => (
                "failed",
                Some(format!("{status}: {}", error_code.unwrap_or("no code"))),
            ),
            _ => ("sent", None),
        };
        let changed = with_db!(&self.db, pool => {
            let row: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, status FROM outbox
                 WHERE (CAST($1 AS BIGINT) IS NOT NULL AND id = CAST($1 AS BIGINT))
                    OR (CAST($1 AS BIGINT) IS NULL AND provider_id = $2)",
            )
            .bind(outbox_id)
            .bind(provider_id)
            .fetch_optional(pool)
            .await?;
            let Some((id, current)) = row else {
                return Ok(false);
            };
            // A later report never undoes a final one; an intermediate one only settles
            // rows whose fate was open.
            let applies = match current.as_str() {
                "sending" | "review" => true,
                "sent" => new_status != "sent",
                "delivered" => new_status == "failed",
                _ => false,
            };
            if applies {
                sqlx::query(
                    "UPDATE outbox SET status = $2, error = COALESCE($3, error),
                        provider_id = COALESCE(provider_id, $4),
                        sent_at = COALESCE(sent_at, $5), updated_at = $5
                     WHERE id = $1",
                )
                .bind(id)
                .bind(new_status)
                .bind(error.as_deref())
                .bind(provider_id)
                .bind(now)
                .execute(pool)
                .await?;
            }
            true
        });
        Ok(changed)
    }

    /// The newest outbox rows, at most `limit`, optionally to one recipient.
    pub async fn recent_outbox(
        &self,
        recipient: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<OutboxRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox
                 WHERE (CAST($1 AS TEXT) IS NULL OR recipient = CAST($1 AS TEXT))
                 ORDER BY id DESC LIMIT $2"
            ))
            .bind(recipient)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(message).collect()
    }

    /// Every outbound message of an account, oldest first.
    pub async fn account_outbox(&self, account: domain::AccountId) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<OutboxRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE account_id = $1 ORDER BY id"
            ))
            .bind(account.0)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(message).collect()
    }

    /// Counts of outbox rows by status, for reports and tests.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status",
            )
            .fetch_all(pool)
            .await?
        }))
    }
}
