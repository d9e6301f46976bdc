//! The agency's inbox in the console: replies the system could not settle alone (free text,
//! "I have a lawyer"...) from text messages and Telegram. An agent assigns them, answers
//! through the compliance engine (the answer is decided, logged and queued like any other
//! message, or refused with its reasons) and closes them; every step is audited in the same
//! transaction.
//!
//! A message matched to an account belongs to that account's agency, unless its number is
//! on accounts of several agencies. One that matched no account (or several agencies') is
//! shown only where a single agency uses the installation: with several, nobody can tell
//! whose it is, and showing it to all would leak a stranger's words.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::compliance::Channel;
use domain::messaging::MessageKind;
use domain::{AccountId, AgencyId};

use super::{apply_writes, draft, LinkSettings, Message, Write};
use crate::db::with_db;
use crate::users::AgencyUser;
use crate::{Accounts, Error, Result};

/// The longest answer an agent may write.
pub const MAX_ANSWER_CHARS: usize = 640;

/// Which messages the inbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxView {
    /// Open, whoever has them.
    Open,
    /// Open and assigned to this user.
    Mine(i64),
    /// Closed.
    Closed,
}

/// A message in the console's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// Its id.
    pub id: i64,
    /// `sms` or `telegram`.
    pub channel: String,
    /// The sender: a phone number or a Telegram chat.
    pub sender: String,
    /// The account it came from: id, reference, the debtor's name.
    pub account: Option<(AccountId, String, String)>,
    /// The words.
    pub body: String,
    /// What the classifier understood.
    pub intent: String,
    /// What the system did about it.
    pub action: String,
    /// `open` or `closed`.
    pub state: String,
    /// The agent it is assigned to: id and name.
    pub assigned_to: Option<(i64, String)>,
    /// The last answer: who, when, and its message's status in the outbox.
    pub answered: Option<(String, DateTime<Utc>, String)>,
    /// Who closed it and when.
    pub closed: Option<(String, DateTime<Utc>)>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// What became of an agent's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxAnswer {
    /// Allowed and queued as outbox message `id`.
    Queued(i64),
    /// The same form was sent before: nothing new was queued.
    Repeat,
    /// The compliance engine did not allow it now (`defer` or `deny`), for these reasons;
    /// the decision is logged and nothing is sent.
    Refused {
        /// `defer` or `deny`.
        verdict: String,
        /// Reason codes.
        reasons: Vec<String>,
    },
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    channel: String,
    sender: String,
    account_id: Option<i64>,
    account_ref: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    body: String,
    intent: String,
    action: String,
    inbox: String,
    assigned_to: Option<i64>,
    assignee: Option<String>,
    answered_by: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    answer_status: Option<String>,
    closed_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    received_at: DateTime<Utc>,
}

impl From<ItemRow> for InboxItem {
    fn from(r: ItemRow) -> Self {
        InboxItem {
            id: r.id,
            channel: r.channel,
            sender: r.sender,
            account: match (r.account_id, r.account_ref) {
                (Some(id), Some(reference)) => Some((
                    AccountId(id),
                    reference,
                    format!(
                        "{} {}",
                        r.first_name.unwrap_or_default(),
                        r.last_name.unwrap_or_default()
                    ),
                )),
                _ => None,
            },
            body: r.body,
            intent: r.intent,
            action: r.action,
            state: r.inbox,
            assigned_to: r.assigned_to.zip(r.assignee),
            answered: match (r.answered_by, r.answered_at) {
                (Some(by), Some(at)) => Some((by, at, r.answer_status.unwrap_or_default())),
                _ => None,
            },
            closed: r.closed_by.zip(r.closed_at),
            received_at: r.received_at,
        }
    }
}

/// The columns of [`ItemRow`]; `$1` is the agency, and the condition keeps to its messages.
const ITEM_SQL: &str =
    "SELECT m.id, m.channel, m.sender, m.account_id, a.account_ref, a.first_name,
        a.last_name, m.body, m.intent, m.action, m.inbox, m.assigned_to, u.name AS assignee,
        m.answered_by, m.answered_at, o.status AS answer_status, m.closed_by, m.closed_at,
        m.received_at
    FROM inbound_messages m
    LEFT JOIN accounts a ON a.id = m.account_id
    LEFT JOIN agency_users u ON u.id = m.assigned_to
    LEFT JOIN outbox o ON o.id = m.answer_outbox_id
    WHERE m.inbox <> 'none'
      AND ((a.agency_id = $1
            AND NOT EXISTS (SELECT 1 FROM accounts x
                            WHERE m.channel = 'sms' AND x.phone = m.sender
                              AND x.agency_id <> a.agency_id))
           OR (m.account_id IS NULL AND (SELECT COUNT(*) FROM agencies) = 1))";

impl Accounts {
    /// The agency's inbox, newest first, at most `limit` messages.
    pub async fn agency_inbox(
        &self,
        agency: AgencyId,
        view: InboxView,
        limit: i64,
    ) -> Result<Vec<InboxItem>> {
        let (state, mine) = match view {
            InboxView::Open => ("open", None),
            InboxView::Mine(user) => ("open", Some(user)),
            InboxView::Closed => ("closed", None),
        };
        let sql = format!(
            "{ITEM_SQL} AND m.inbox = $2 AND ($3 IS NULL OR m.assigned_to = $3)
             ORDER BY m.id DESC LIMIT $4"
        );
        let rows: Vec<ItemRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(agency.0)
                .bind(state)
                .bind(mine)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(InboxItem::from).collect())
    }

    /// One message of the agency's inbox; `None` when it is not the agency's.
    pub async fn inbox_item(&self, agency: AgencyId, id: i64) -> Result<Option<InboxItem>> {
        let sql = format!("{ITEM_SQL} AND m.id = $2");
        let row: Option<ItemRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(agency.0)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(InboxItem::from))
    }

    /// Assigns an open message to `to` (a user of the same agency), or unassigns it.
    pub async fn assign_inbox(&self, user: &AgencyUser, id: i64, to: Option<i64>) -> Result<()> {
        let item = self.open_item(user, id).await?;
        let to_name = match to {
            Some(to) => {
                let names: HashMap<i64, String> = self
                    .agency_user_names(user.agency)
                    .await?
                    .into_iter()
                    .collect();
                Some(
                    names
                        .get(&to)
                        .cloned()
                        .ok_or_else(|| Error::Invalid("no such user in the agency".into()))?,
                )
            }
            None => None,
        };
        let detail = match &to_name {
            Some(name) => format!("inbox message {id} assigned to {name}"),
            None => format!("inbox message {id} unassigned"),
        };
        self.inbox_step(
            user,
            &item,
            "UPDATE inbound_messages SET assigned_to = $1, assigned_at = $3
             WHERE id = $2 AND inbox = 'open'",
            to,
            "inbox_assign",
            &detail,
        )
        .await
    }

    /// Closes an open message: the agency has dealt with it.
    pub async fn close_inbox(&self, user: &AgencyUser, id: i64) -> Result<()> {
        let item = self.open_item(user, id).await?;
        let detail = format!("inbox message {id} closed");
        self.inbox_step(
            user,
            &item,
            "UPDATE inbound_messages SET inbox = 'closed', closed_by = $1, closed_at = $3
             WHERE id = $2 AND inbox = 'open'",
            user.actor().to_string(),
            "inbox_close",
            &detail,
        )
        .await
    }

    /// Answers an open message of an account with the agent's own words, on the medium it
    /// came by. The compliance engine decides as for any message: allowed, it is queued
    /// with the content the law requires added; otherwise nothing is sent and the reasons
    /// come back. The decision is logged either way. `key` makes a resent form queue once.
    pub async fn answer_inbox(
        &self,
        user: &AgencyUser,
        id: i64,
        text: &str,
        key: &str,
        links: &LinkSettings,
    ) -> Result<InboxAnswer> {
        let item = self.open_item(user, id).await?;
        let Some((account, ..)) = item.account else {
            return Err(Error::Invalid(
                "the message matched no account: there is no one to answer".into(),
            ));
        };
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_ANSWER_CHARS {
            return Err(Error::Invalid(format!(
                "an answer needs 1 to {MAX_ANSWER_CHARS} characters"
            )));
        }
        let channel = match item.channel.as_str() {
            "telegram" => Channel::Telegram,
            "sms" => Channel::Sms,
            other => {
                return Err(Error::Invalid(format!(
                    "answers by {other} are not supported"
                )))
            }
        };
        let now = self.clock.now();
        let mut facts = self.load_facts(&[account.0], now).await?;
        let f = facts
            .get_mut(&account.0)
            .ok_or(Error::NotFound("account"))?;
        // The answer goes back to where the message came from, and only while that is
        // still this account's: a chat bound since to someone else (or blocked), or a number
        // no longer on the account, gets nothing.
        let still_theirs = match channel {
            Channel::Telegram => {
                f.telegram_chat.map(|c| c.to_string()) == Some(item.sender.clone())
            }
            _ => f.phone.as_deref() == Some(item.sender.as_str()),
        };
        if !still_theirs {
            return Err(Error::Invalid(format!(
                "{} no longer reaches this account",
                item.sender
            )));
        }
        let mut agencies = HashMap::new();
        let agency = self.agency_context(f.agency, &mut agencies).await?;
        let dedupe_key = format!("inbox:{id}:{key}");
        let message = Message {
            account: account.0,
            channel,
            kind: MessageKind::AgentReply,
            dedupe_key: dedupe_key.clone(),
            next_path: None,
            text: Some(text.to_string()),
            markup: None,
        };
        let drafted = draft(message, f, agency, links, now)?;
        let allowed = drafted.decision.allowed();
        let refused = InboxAnswer::Refused {
            verdict: drafted.decision.verdict.as_str().to_string(),
            reasons: drafted
                .decision
                .reason_codes()
                .iter()
                .map(|c| c.to_string())
                .collect(),
        };
        let writes: Vec<Write> = drafted.writes;
        let by = user.actor().to_string();
        let detail = if allowed {
            format!("inbox message {id} answered on {channel}: {text}")
        } else {
            format!("inbox message {id}: answer on {channel} not allowed now, not sent: {text}")
        };
        let begin = match self.engine() {
            // Read-then-write on SQLite takes the write lock first, so a second submit
            // waits and then sees the first instead of failing on a stale snapshot.
            crate::Engine::Sqlite => "BEGIN IMMEDIATE",
            crate::Engine::Postgres => "BEGIN",
        };
        let result: Result<InboxAnswer> = async {
            Ok(with_db!(&self.db, pool => {
                let mut tx = pool.begin_with(begin).await?;
                let repeat: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM outbox WHERE dedupe_key = $1")
                        .bind(&dedupe_key)
                        .fetch_optional(&mut *tx)
                        .await?;
                if repeat.is_some() {
                    return Ok(InboxAnswer::Repeat);
                }
                apply_writes!(tx, writes, now);
                let queued: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM outbox WHERE dedupe_key = $1")
                        .bind(&dedupe_key)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(outbox) = queued {
                    let still_open = sqlx::query(
                        "UPDATE inbound_messages SET answered_by = $1, answered_at = $2,
                            answer_outbox_id = $3 WHERE id = $4 AND inbox = 'open'",
                    )
                    .bind(&by)
                    .bind(now)
                    .bind(outbox)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if still_open == 0 {
                        // Closed meanwhile: the answer is not sent.
                        return Err(Error::Invalid("the message is closed".into()));
                    }
                }
                crate::console::audit_in!(
                    tx,
                    user.agency.0,
                    user.id,
                    if allowed { "inbox_answer" } else { "inbox_answer_refused" },
                    account.0,
                    &detail,
                    now
                );
                tx.commit().await?;
                match queued {
                    Some(outbox) => InboxAnswer::Queued(outbox),
                    None => refused,
                }
            }))
        }
        .await;
        match result {
            // The same form sent twice at once: the other one queued it.
            Err(Error::Database(e))
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                Ok(InboxAnswer::Repeat)
            }
            other => other,
        }
    }

    /// The open message `id` of the user's agency, or why it cannot be worked.
    async fn open_item(&self, user: &AgencyUser, id: i64) -> Result<InboxItem> {
        let item = self
            .inbox_item(user.agency, id)
            .await?
            .ok_or(Error::NotFound("inbox message"))?;
        if item.state != "open" {
            return Err(Error::Invalid("the message is closed".into()));
        }
        Ok(item)
    }

    /// Runs one inbox `update` (`$1` its value, `$2` the message, `$3` now) and its audit
    /// entry in one transaction.
    async fn inbox_step<V>(
        &self,
        user: &AgencyUser,
        item: &InboxItem,
        update: &str,
        value: V,
        action: &str,
        detail: &str,
    ) -> Result<()>
    where
        V: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + Send
            + Clone
            + 'static,
    {
        let now = self.clock.now();
        let account = item.account.as_ref().map(|(a, ..)| a.0);
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(update)
                .bind(value.clone())
                .bind(item.id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(Error::Invalid("the message is closed".into()));
            }
            crate::console::audit_in!(
                tx,
                user.agency.0,
                user.id,
                action,
                account,
                detail,
                now
            );
            tx.commit().await?;
        });
        Ok(())
    }
}
