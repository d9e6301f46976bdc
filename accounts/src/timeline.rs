//! An account's interaction history: every message in and out, every compliance decision,
//! ledger postings, the validation notice, disputes step by step, holds, notes and identity
//! checks (portal and chat visits), in time order.

use chrono::{DateTime, Utc};
use domain::AccountId;

use crate::db::with_db;
use crate::error::Result;
use crate::Accounts;

/// One thing that happened on an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// What kind of step: `posting`, `notice`, `dispute`, `dispute_file`, `dispute_answer`,
    /// `dispute_delivery`, `hold_set`, `hold_cleared`, `inbound`, `outbound`, `decision`,
    /// `note`, `identity`.
    pub kind: &'static str,
    /// A one-line description.
    pub summary: String,
    /// Who did it, when known (`debtor`, `user:3`, `system:sms-reply`...).
    pub actor: Option<String>,
}

type Row3 = (DateTime<Utc>, String, String);

impl Accounts {
    /// The account's history, oldest first.
    pub async fn timeline(&self, account: AccountId) -> Result<Vec<TimelineEntry>> {
        let id = account.0;
        let (
            postings,
            notices,
            disputes,
            files,
            holds,
            inbound,
            outbound,
            decisions,
            notes,
            identity,
        ) = with_db!(&self.db, pool => {
            let postings: Vec<(DateTime<Utc>, String, i64, String, String)> = sqlx::query_as(
                "SELECT posted_at, kind, amount, memo, actor FROM postings WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let notices: Vec<Row3> = sqlx::query_as(
                "SELECT delivered_at, notice, language FROM notice_deliveries WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            #[allow(clippy::type_complexity)]
            let disputes: Vec<(
                i64,
                DateTime<Utc>,
                String,
                String,
                bool,
                Option<i64>,
                Option<DateTime<Utc>>,
                Option<String>,
                Option<String>,
                Option<DateTime<Utc>>,
                Option<String>,
            )> = sqlx::query_as(
                "SELECT id, opened_at, reason, origin, written, duplicate_of, answered_at,
                        answer_kind, answered_by, delivered_at, delivered_via
                 FROM disputes WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let files: Vec<(DateTime<Utc>, i64, String, String, String)> = sqlx::query_as(
                "SELECT f.uploaded_at, f.dispute_id, f.role, f.file_name, f.uploaded_by
                 FROM dispute_files f JOIN disputes d ON d.id = f.dispute_id
                 WHERE d.account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            #[allow(clippy::type_complexity)]
            let holds: Vec<(
                DateTime<Utc>,
                String,
                String,
                String,
                Option<DateTime<Utc>>,
                Option<String>,
                Option<String>,
            )> = sqlx::query_as(
                "SELECT set_at, kind, reason, set_by, cleared_at, cleared_by, cleared_reason
                 FROM holds WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let inbound: Vec<(DateTime<Utc>, String, String, String)> = sqlx::query_as(
                "SELECT received_at, channel, intent, body FROM inbound_messages
                 WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let outbound: Vec<(DateTime<Utc>, String, String, String)> = sqlx::query_as(
                "SELECT created_at, channel, kind, status FROM outbox WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let decisions: Vec<(DateTime<Utc>, String, String, String, String)> = sqlx::query_as(
                "SELECT decided_at, channel, purpose, decision, reasons
                 FROM compliance_decisions WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let notes: Vec<Row3> = sqlx::query_as(
                "SELECT written_at, body, written_by FROM account_notes WHERE account_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let identity: Vec<(DateTime<Utc>, String)> = sqlx::query_as(
                "SELECT at, outcome FROM identity_log WHERE account_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            (postings, notices, disputes, files, holds, inbound, outbound, decisions, notes, identity)
        });
        let currency = self.account_currency(account).await?;
        let mut out = Vec::new();
        let mut push =
            |at: DateTime<Utc>, kind: &'static str, summary: String, actor: Option<String>| {
                out.push(TimelineEntry {
                    at,
                    kind,
                    summary,
                    actor,
                })
            };
        for (at, kind, amount, memo, actor) in postings {
            let amount = domain::Money::from_minor(amount, currency)
                .map_err(|e| crate::Error::Corrupt(e.to_string()))?;
            let memo = if memo.is_empty() {
                String::new()
            } else {
                format!(": {memo}")
            };
            push(at, "posting", format!("{kind} {amount}{memo}"), Some(actor));
        }
        for (at, notice, language) in notices {
            push(
                at,
                "notice",
                format!(
                    "{notice} notice delivered in the portal ({language}), E-SIGN consent given"
                ),
                Some("debtor".into()),
            );
        }
        for (
            d,
            opened,
            reason,
            origin,
            written,
            duplicate_of,
            answered_at,
            kind,
            by,
            delivered_at,
            via,
        ) in disputes
        {
            let written = if written { "written" } else { "not written" };
            let dup = duplicate_of
                .map(|o| format!(", duplicate of dispute {o}"))
                .unwrap_or_default();
            push(
                opened,
                "dispute",
                format!("dispute {d} opened: {reason} (by {origin}, {written}{dup})"),
                Some(
                    if origin == "agency" {
                        "agency"
                    } else {
                        "debtor"
                    }
                    .into(),
                ),
            );
            // Pushed in the order they happen, so steps at the same instant keep it (the
            // sort below is stable).
            let files_of = |role: &str,
                            push: &mut dyn FnMut(
                DateTime<Utc>,
                &'static str,
                String,
                Option<String>,
            )| {
                for (at, _, r, name, by) in files.iter().filter(|f| f.1 == d && f.2 == role) {
                    push(
                        *at,
                        "dispute_file",
                        format!("dispute {d}: {r} file {name}"),
                        Some(by.clone()),
                    );
                }
            };
            files_of("evidence", &mut push);
            if let (Some(at), Some(kind)) = (answered_at, kind) {
                push(
                    at,
                    "dispute_answer",
                    format!("dispute {d} answered: {kind}"),
                    by,
                );
                files_of("verification", &mut push);
            }
            if let (Some(at), Some(via)) = (delivered_at, via) {
                push(
                    at,
                    "dispute_delivery",
                    format!("dispute {d}: answer delivered by {via}; its hold is lifted"),
                    None,
                );
            }
        }
        for (at, kind, reason, by, cleared_at, cleared_by, cleared_reason) in holds {
            push(
                at,
                "hold_set",
                format!("{kind} hold set: {reason}"),
                Some(by),
            );
            if let Some(cleared) = cleared_at {
                push(
                    cleared,
                    "hold_cleared",
                    format!("{kind} hold lifted: {}", cleared_reason.unwrap_or_default()),
                    cleared_by,
                );
            }
        }
        for (at, channel, intent, body) in inbound {
            push(
                at,
                "inbound",
                format!("{channel} from the debtor ({intent}): {body}"),
                Some("debtor".into()),
            );
        }
        for (at, channel, kind, status) in outbound {
            push(at, "outbound", format!("{channel} {kind}: {status}"), None);
        }
        for (at, channel, purpose, decision, reasons) in decisions {
            push(
                at,
                "decision",
                format!("{decision} {purpose} on {channel}: {reasons}"),
                Some("compliance engine".into()),
            );
        }
        for (at, body, by) in notes {
            push(at, "note", body, Some(by));
        }
        for (at, outcome) in identity {
            let (summary, actor) = match outcome.as_str() {
                "verified" => (
                    "identity confirmed: the debtor came in (portal or chat)",
                    Some("debtor".to_string()),
                ),
                "wrong" => (
                    "identity check failed: wrong date of birth or ZIP code",
                    None,
                ),
                _ => (
                    "identity check refused: locked after repeated failures",
                    None,
                ),
            };
            push(at, "identity", summary.to_string(), actor);
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }
}
