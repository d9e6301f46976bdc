//! What the backend tells `/metrics`: counters of the compliance decisions and payment
//! events this process applied (Prometheus adds processes up), and the depth of the queues
//! every process shares, read from the database when scraped.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use domain::compliance::Decision;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::db::with_db;
use crate::{Accounts, Result};

/// A decision's verdict, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabel {
    /// `allow`, `defer` or `deny`.
    pub verdict: &'static str,
}

/// A rule that blocked a message, as labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    /// `defer` or `deny`.
    pub verdict: &'static str,
    /// The finding's reason code (`quiet_hours`, `opted_out`...).
    pub reason: &'static str,
}

/// Compliance decisions made by this process, by verdict.
pub static DECISIONS: LazyLock<Family<VerdictLabel, Counter>> = LazyLock::new(Family::default);

/// The rules behind this process's defers and denials, by verdict and reason code (a
/// decision with two findings counts under both).
pub static FINDINGS: LazyLock<Family<FindingLabels, Counter>> = LazyLock::new(Family::default);

/// A payment processor event's kind, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PaymentLabel {
    /// `payment_succeeded`, `payment_failed`, `refunded` or `chargeback_lost`.
    pub event: &'static str,
}

/// Payment processor events this process applied (each once, however often delivered).
pub static PAYMENT_EVENTS: LazyLock<Family<PaymentLabel, Counter>> = LazyLock::new(Family::default);

/// The money moved by those events, in minor units of the account's currency.
pub static PAYMENT_MINOR: LazyLock<Family<PaymentLabel, Counter>> = LazyLock::new(Family::default);

/// Counts a processor event that was applied.
pub(crate) fn count_payment_event(kind: &crate::payments::EventKind) {
    use crate::payments::EventKind;
    let (event, minor) = match kind {
        EventKind::PaymentSucceeded { amount_minor, .. } => ("payment_succeeded", *amount_minor),
        EventKind::PaymentFailed { .. } => ("payment_failed", 0),
        EventKind::Refunded { amount_minor, .. } => ("refunded", *amount_minor),
        EventKind::ChargebackLost { amount_minor, .. } => ("chargeback_lost", *amount_minor),
        _ => return,
    };
    let label = PaymentLabel { event };
    PAYMENT_EVENTS.get_or_create(&label).inc();
    if minor > 0 {
        PAYMENT_MINOR
            .get_or_create(&label)
            .inc_by(u64::try_from(minor).unwrap_or(0));
    }
}

/// Counts a decision that was made (and is logged with its message).
pub(crate) fn count_decision(decision: &Decision) {
    let verdict = decision.verdict.as_str();
    DECISIONS.get_or_create(&VerdictLabel { verdict }).inc();
    for finding in &decision.findings {
        FINDINGS
            .get_or_create(&FindingLabels {
                verdict,
                reason: finding.reason.code(),
            })
            .inc();
    }
}

/// The shared queues' state at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepths {
    /// Outbox messages waiting to be sent.
    pub outbox_pending: i64,
    /// Outbox messages claimed by a sender, not yet finished.
    pub outbox_sending: i64,
    /// Outbox messages a crash left for a person to review.
    pub outbox_review: i64,
    /// Webhook deliveries due now to active endpoints, not yet delivered or given up.
    pub webhooks_due: i64,
    /// When the oldest of those became due.
    pub webhooks_oldest_due: Option<DateTime<Utc>>,
}

impl Accounts {
    /// The shared queues' depths now (each count reads one index range).
    pub async fn queue_depths(&self) -> Result<QueueDepths> {
        let now = self.clock.now();
        let count_status = "SELECT COUNT(*) FROM outbox WHERE status = $1";
        let (pending, sending, review, due, oldest) = with_db!(&self.db, pool => {
            let mut counts = [0i64; 3];
            for (slot, status) in counts.iter_mut().zip(["pending", "sending", "review"]) {
                *slot = sqlx::query_scalar(count_status)
                    .bind(status)
                    .fetch_one(pool)
                    .await?;
            }
            let (due, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(d.next_attempt_at) FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.disabled_at IS NULL
                 WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= $1",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            (counts[0], counts[1], counts[2], due, oldest)
        });
        Ok(QueueDepths {
            outbox_pending: pending,
            outbox_sending: sending,
            outbox_review: review,
            webhooks_due: due,
            webhooks_oldest_due: oldest,
        })
    }
}
