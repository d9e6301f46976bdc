//! Messaging: cadences, the scheduling run that asks the compliance engine and fills the
//! outbox, the sending worker, and replies from debtors.
//!
//! Every outbound message is a compliance decision first. The decision, the outbox row,
//! the contact-history entry and the portal link it carries are written in one
//! transaction ([`Write`] lists, applied by `apply_writes!`), so a message exists only
//! with the decision that allowed it, and a decision that allowed a message always has it.

mod demo;
mod inbound;
mod inbox;
mod outbox;
mod port;
mod run;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use domain::compliance::{self, wire, Channel, Decision, Direction, Policy, Verdict};
use domain::messaging::{compose, with_required, Cadence, MessageKind, TemplateVars};
use domain::{AccountId, Actor, AgencyId};

use crate::compliance::AccountFacts;
use crate::db::with_db;
use crate::portal::LinkToken;
use crate::users::AgencyUser;
use crate::{Accounts, Error, Result};

pub use demo::{DemoChat, DemoSms};
pub use inbound::{reply_plan, InboundOutcome, InboundSms, InboxMessage};
pub use inbox::{InboxAnswer, InboxItem, InboxView, MAX_ANSWER_CHARS};
pub use outbox::{OutboxMessage, OutboxStatus, SendReport, SenderOptions};
pub use port::{
    ChatGateway, OutboundChat, OutboundSms, SendOutcome, SmsFuture, SmsGateway, CHAT_BLOCKED,
};
pub use run::{RunOptions, RunReport};

/// One row to write in a messaging transaction, in order.
#[derive(Debug, Clone)]
pub(crate) enum Write {
    /// A compliance decision; later `Outbox` rows refer to the latest one.
    Decision {
        agency: i64,
        account: i64,
        channel: Channel,
        purpose: &'static str,
        verdict: &'static str,
        reasons: String,
        citations: String,
        next_allowed_at: Option<DateTime<Utc>>,
        required_content: String,
        facts: String,
    },
    /// A portal link carried by the message, leading to `next_path` after the check.
    Link {
        account: i64,
        token: crate::portal::StoredToken,
        expires_at: DateTime<Utc>,
        next_path: Option<String>,
    },
    /// A single-use link binding a Telegram chat, offered by the message.
    TelegramLink {
        account: i64,
        token_hash: String,
        expires_at: DateTime<Utc>,
    },
    /// The message itself, allowed by the latest decision.
    Outbox {
        account: i64,
        channel: Channel,
        kind: MessageKind,
        recipient: String,
        body: String,
        dedupe_key: String,
        /// Buttons to show with it (a Telegram inline keyboard as JSON).
        markup: Option<String>,
    },
    /// The message in the contact history the engine counts.
    Contact {
        account: i64,
        channel: Channel,
        direction: Direction,
        purpose: &'static str,
    },
    /// The account's cadence (on `channel`) moves to `step`, due at `due_at`; `None`
    /// ends it.
    Schedule {
        account: i64,
        channel: Channel,
        next: Option<(i64, DateTime<Utc>)>,
    },
    /// A message request is done (`handled`), or waits until `not_before`.
    Request {
        id: i64,
        handled: bool,
        not_before: Option<DateTime<Utc>>,
    },
}

/// Runs a list of [`Write`]s on an open transaction `$tx` (either engine), at `$now`.
macro_rules! apply_writes {
    ($tx:expr, $writes:expr, $now:expr) => {{
        let mut decision_id: i64 = 0;
        for w in $writes {
            match w {
                Write::Decision {
                    agency,
                    account,
                    channel,
                    purpose,
                    verdict,
                    reasons,
                    citations,
                    next_allowed_at,
                    required_content,
                    facts,
                } => {
                    decision_id = sqlx::query_scalar(
                        "INSERT INTO compliance_decisions (agency_id, account_id, decided_at,
                            channel, purpose, decision, reasons, citations, next_allowed_at,
                            required_content, facts)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    )
                    .bind(agency)
                    .bind(account)
                    .bind($now)
                    .bind(channel.as_str())
                    .bind(purpose)
                    .bind(verdict)
                    .bind(reasons)
                    .bind(citations)
                    .bind(next_allowed_at)
                    .bind(required_content)
                    .bind(facts)
                    .fetch_one(&mut *$tx)
                    .await?;
                }
                Write::Link {
                    account,
                    token,
                    expires_at,
                    next_path,
                } => {
                    sqlx::query(
                        "INSERT INTO portal_links (account_id, token_lookup, token_hash,
                            created_at, expires_at, next_path)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(account)
                    .bind(token.lookup)
                    .bind(token.hash)
                    .bind($now)
                    .bind(expires_at)
                    .bind(next_path)
                    .execute(&mut *$tx)
                    .await?;
                }
                Write::TelegramLink {
                    account,
                    token_hash,
                    expires_at,
                } => {
                    sqlx::query(
                        "INSERT INTO telegram_links (account_id, token_hash, created_at, expires_at)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(account)
                    .bind(token_hash)
                    .bind($now)
                    .bind(expires_at)
                    .execute(&mut *$tx)
                    .await?;
                }
                Write::Outbox {
                    account,
                    channel,
                    kind,
                    recipient,
                    body,
                    dedupe_key,
                    markup,
                } => {
                    sqlx::query(
                        "INSERT INTO outbox (account_id, decision_id, channel, kind, purpose,
                            recipient, body, dedupe_key, status, priority, created_at, not_before,
                            updated_at, markup)
                         VALUES ($1, $2, $3, $4, $10, $5, $6, $7, 'pending', $9, $8, $8, $8, $11)",
                    )
                    .bind(account)
                    .bind(decision_id)
                    .bind(channel.as_str())
                    .bind(kind.as_str())
                    .bind(recipient)
                    .bind(body)
                    .bind(dedupe_key)
                    .bind($now)
                    .bind($crate::messaging::priority(kind))
                    .bind(kind.purpose().as_str())
                    .bind(markup)
                    .execute(&mut *$tx)
                    .await?;
                }
                Write::Contact {
                    account,
                    channel,
                    direction,
                    purpose,
                } => {
                    sqlx::query(
                        "INSERT INTO contact_events (account_id, at, channel, direction, purpose)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(account)
                    .bind($now)
                    .bind(channel.as_str())
                    .bind(direction.as_str())
                    .bind(purpose)
                    .execute(&mut *$tx)
                    .await?;
                }
                Write::Schedule {
                    account,
                    next: Some((step, due_at)),
                    ..
                } => {
                    sqlx::query(
                        "UPDATE reminder_schedule SET step = $2, due_at = $3 WHERE account_id = $1",
                    )
                    .bind(account)
                    .bind(step)
                    .bind(due_at)
                    .execute(&mut *$tx)
                    .await?;
                }
                Write::Schedule {
                    account,
                    next: None,
                    ..
                } => {
                    sqlx::query("DELETE FROM reminder_schedule WHERE account_id = $1")
                        .bind(account)
                        .execute(&mut *$tx)
                        .await?;
                }
                Write::Request {
                    id,
                    handled,
                    not_before,
                } => {
                    sqlx::query(
                        "UPDATE message_requests
                         SET handled_at = CASE WHEN $2 THEN $3 ELSE handled_at END, not_before = $4
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(handled)
                    .bind($now)
                    .bind(not_before)
                    .execute(&mut *$tx)
                    .await?;
                }
            }
        }
    }};
}
pub(crate) use apply_writes;

/// Rows per multi-row statement (14 columns × 400 stays far below either engine's limit
/// on bound parameters).
pub(crate) const BULK_ROWS: usize = 400;

/// Runs a batch's [`Write`]s with one multi-row statement per table and chunk instead of
/// one statement per row: the scheduling run's path. Decision ids are allocated first
/// (SQLite: after the highest, under the `BEGIN IMMEDIATE` write lock; PostgreSQL: from
/// the sequence) so outbox rows can name them. `$engine` is the [`crate::Engine`].
macro_rules! apply_bulk {
    ($tx:expr, $engine:expr, $writes:expr, $now:expr) => {{
        let writes: Vec<Write> = $writes;
        let n = writes
            .iter()
            .filter(|w| matches!(w, Write::Decision { .. }))
            .count() as i64;
        let ids: Vec<i64> = if n == 0 {
            Vec::new()
        } else {
            match $engine {
                $crate::Engine::Sqlite => {
                    let first: i64 = sqlx::query_scalar(
                        "SELECT COALESCE(MAX(id), 0) + 1 FROM compliance_decisions",
                    )
                    .fetch_one(&mut *$tx)
                    .await?;
                    (first..first + n).collect()
                }
                $crate::Engine::Postgres => {
                    sqlx::query_scalar(
                        "SELECT nextval(pg_get_serial_sequence('compliance_decisions', 'id'))
                         FROM generate_series(1, $1)",
                    )
                    .bind(n)
                    .fetch_all(&mut *$tx)
                    .await?
                }
            }
        };
        let mut next_id = ids.into_iter();
        let mut decision_id = 0_i64;
        let mut decisions = Vec::new();
        let mut links = Vec::new();
        let mut outbox = Vec::new();
        let mut contacts = Vec::new();
        let mut schedule_ids = Vec::new();
        let mut schedule = Vec::new();
        let mut requests = Vec::new();
        for w in writes {
            match w {
                Write::Decision { .. } => {
                    decision_id = next_id.next().unwrap_or_default();
                    decisions.push((decision_id, w));
                }
                Write::Link { .. } => links.push(w),
                Write::Outbox { .. } => outbox.push((decision_id, w)),
                Write::Contact { .. } => contacts.push(w),
                Write::Schedule {
                    account,
                    channel,
                    next,
                } => {
                    schedule_ids.push(account);
                    if let Some((step, due_at)) = next {
                        schedule.push((account, step, due_at, channel));
                    }
                }
                // Rare (answers to HELP): row by row.
                Write::Request { .. } | Write::TelegramLink { .. } => requests.push(w),
            }
        }
        for chunk in decisions.chunks(BULK_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO compliance_decisions (id, agency_id, account_id, decided_at, channel,
                    purpose, decision, reasons, citations, next_allowed_at, required_content, facts) ",
            );
            qb.push_values(chunk, |mut b, (id, w)| {
                if let Write::Decision {
                    agency,
                    account,
                    channel,
                    purpose,
                    verdict,
                    reasons,
                    citations,
                    next_allowed_at,
                    required_content,
                    facts,
                } = w
                {
                    b.push_bind(*id)
                        .push_bind(*agency)
                        .push_bind(*account)
                        .push_bind($now)
                        .push_bind(channel.as_str())
                        .push_bind(*purpose)
                        .push_bind(*verdict)
                        .push_bind(reasons.clone())
                        .push_bind(citations.clone())
                        .push_bind(*next_allowed_at)
                        .push_bind(required_content.clone())
                        .push_bind(facts.clone());
                }
            });
            qb.build().execute(&mut *$tx).await?;
        }
        for chunk in links.chunks(BULK_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO portal_links (account_id, token_lookup, token_hash, created_at,
                    expires_at, next_path) ",
            );
            qb.push_values(chunk, |mut b, w| {
                if let Write::Link {
                    account,
                    token,
                    expires_at,
                    next_path,
                } = w
                {
                    b.push_bind(*account)
                        .push_bind(token.lookup)
                        .push_bind(token.hash.clone())
                        .push_bind($now)
                        .push_bind(*expires_at)
                        .push_bind(next_path.clone());
                }
            });
            qb.build().execute(&mut *$tx).await?;
        }
        for chunk in outbox.chunks(BULK_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO outbox (account_id, decision_id, channel, kind, purpose, recipient,
                    body, dedupe_key, status, priority, created_at, not_before, updated_at,
                    markup) ",
            );
            qb.push_values(chunk, |mut b, (decision, w)| {
                if let Write::Outbox {
                    account,
                    channel,
                    kind,
                    recipient,
                    body,
                    dedupe_key,
                    markup,
                } = w
                {
                    b.push_bind(*account)
                        .push_bind(*decision)
                        .push_bind(channel.as_str())
                        .push_bind(kind.as_str())
                        .push_bind(kind.purpose().as_str())
                        .push_bind(recipient.clone())
                        .push_bind(body.clone())
                        .push_bind(dedupe_key.clone())
                        .push_bind("pending")
                        .push_bind($crate::messaging::priority(*kind))
                        .push_bind($now)
                        .push_bind($now)
                        .push_bind($now)
                        .push_bind(markup.clone());
                }
            });
            qb.build().execute(&mut *$tx).await?;
        }
        for chunk in contacts.chunks(BULK_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO contact_events (account_id, at, channel, direction, purpose) ",
            );
            qb.push_values(chunk, |mut b, w| {
                if let Write::Contact {
                    account,
                    channel,
                    direction,
                    purpose,
                } = w
                {
                    b.push_bind(*account)
                        .push_bind($now)
                        .push_bind(channel.as_str())
                        .push_bind(direction.as_str())
                        .push_bind(*purpose);
                }
            });
            qb.build().execute(&mut *$tx).await?;
        }
        // The batch's schedule rows are replaced: deleted, then the ones that go on
        // inserted with their next step (portable, and one statement each per chunk).
        for chunk in schedule_ids.chunks(BULK_ROWS * 8) {
            sqlx::query(&format!(
                "DELETE FROM reminder_schedule WHERE account_id IN {}",
                $crate::compliance::in_list($engine)
            ))
            .bind($crate::compliance::ids_json(chunk))
            .execute(&mut *$tx)
            .await?;
        }
        for chunk in schedule.chunks(BULK_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO reminder_schedule (account_id, step, due_at, channel) ",
            );
            qb.push_values(chunk, |mut b, (account, step, due_at, channel)| {
                b.push_bind(*account)
                    .push_bind(*step)
                    .push_bind(*due_at)
                    .push_bind(channel.as_str());
            });
            qb.build().execute(&mut *$tx).await?;
        }
        apply_writes!($tx, requests, $now);
    }};
}
pub(crate) use apply_bulk;

/// How soon a kind of message must go: answers and confirmations first (an opt-out
/// confirmation is due within minutes), then receipts, then reminders.
pub(crate) fn priority(kind: MessageKind) -> i16 {
    match kind.purpose() {
        domain::compliance::Purpose::Reply
        | domain::compliance::Purpose::OptOutConfirmation
        | domain::compliance::Purpose::CeaseConfirmation => 0,
        domain::compliance::Purpose::Receipt | domain::compliance::Purpose::DisputeResponse => 1,
        _ => 2,
    }
}

/// What every message needs besides the account's facts: the agency's name, policy and
/// cadences, read once per run and per agency.
#[derive(Debug, Clone)]
pub(crate) struct AgencyContext {
    pub name: String,
    pub policy: Policy,
    /// The agency's own cadence.
    pub cadence: Cadence,
    /// The creditors with a cadence of their own.
    pub creditors: HashMap<String, Cadence>,
}

impl AgencyContext {
    /// The cadence `creditor`'s accounts follow.
    pub fn cadence_for(&self, creditor: &str) -> &Cadence {
        self.creditors.get(creditor).unwrap_or(&self.cadence)
    }
}

/// Where links point and how long they work.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// The portal's public address (`https://pay.example.com`), without a trailing slash.
    pub public_url: String,
    /// How long a link in a message works.
    pub ttl: Duration,
    /// The Telegram bot's username, when one is configured: texts with `{telegram}` offer
    /// a single-use link that binds a chat.
    pub telegram_bot: Option<String>,
}

/// The decision for one message and, when allowed, the rows that send it.
pub(crate) struct Drafted {
    pub decision: Decision,
    pub writes: Vec<Write>,
}

/// What one message is: its account, medium, kind, dedupe key and the portal page its
/// link leads to after the identity check (`None`: the account page).
pub(crate) struct Message<'a> {
    pub account: i64,
    pub channel: Channel,
    pub kind: MessageKind,
    pub dedupe_key: String,
    pub next_path: Option<&'a str>,
    /// A text written for this one message (a chat answer) instead of the kind's
    /// template; the required content is still added.
    pub text: Option<String>,
    /// Buttons to send with it.
    pub markup: Option<String>,
}

/// Decides one message and drafts its rows: the decision always; on allow the link and
/// the outbox row.
pub(crate) fn draft(
    message: Message<'_>,
    facts: &AccountFacts,
    agency: &AgencyContext,
    links: &LinkSettings,
    now: DateTime<Utc>,
) -> Result<Drafted> {
    let Message {
        account,
        channel,
        kind,
        dedupe_key,
        next_path,
        text,
        markup,
    } = message;
    let purpose = kind.purpose();
    let question = facts.question(channel, purpose);
    let decision = compliance::decide(&question, &agency.policy, now);
    crate::metrics::count_decision(&decision);
    let facts_json = wire::question_to_value(
        &serde_json::Value::String(format!("account:{account}")),
        &question,
        now,
    )
    .to_string();
    let mut writes = vec![Write::Decision {
        agency: facts.agency.0,
        account,
        channel,
        purpose: purpose.as_str(),
        verdict: decision.verdict.as_str(),
        reasons: decision.reason_codes().join(","),
        citations: decision.citations().join(" | "),
        next_allowed_at: decision.next_allowed_at,
        required_content: decision
            .required_content
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(","),
        facts: facts_json,
    }];
    if decision.verdict != Verdict::Allow {
        return Ok(Drafted { decision, writes });
    }
    let recipient = match channel {
        Channel::Sms => facts.phone.clone(),
        Channel::Telegram => facts.telegram_chat.map(|c| c.to_string()),
        _ => None,
    }
    .ok_or_else(|| Error::Invalid(format!("account {account} has no address for {channel}")))?;
    let body = match text {
        // A text written for this one message (a chat answer).
        Some(text) => with_required(text, &decision.required_content, facts.language),
        None => {
            let cadence = agency.cadence_for(&facts.creditor);
            let template = cadence.template(kind, facts.language);
            let link = if template.contains("{link}") {
                let token = LinkToken::generate();
                writes.push(Write::Link {
                    account,
                    token: token.stored(),
                    expires_at: now + links.ttl,
                    next_path: next_path
                        .filter(|p| crate::portal::is_portal_path(p))
                        .map(str::to_string),
                });
                format!("{}/l/{}", links.public_url, token.expose())
            } else {
                String::new()
            };
            let telegram = match (&links.telegram_bot, channel) {
                (Some(bot), Channel::Sms) if template.contains("{telegram}") => {
                    let (token, hash) = crate::telegram::TelegramToken::generate_hashed();
                    writes.push(Write::TelegramLink {
                        account,
                        token_hash: hash,
                        expires_at: now + Duration::hours(crate::telegram::TELEGRAM_LINK_TTL_HOURS),
                    });
                    format!(
                        " {} {}",
                        domain::messaging::telegram_offer(facts.language),
                        crate::telegram::deep_link(bot, &token)
                    )
                }
                _ => String::new(),
            };
            let vars = TemplateVars {
                name: &facts.first_name,
                agency: &agency.name,
                help: &cadence.help_contact,
                link: &link,
                telegram: &telegram,
            };
            compose(template, &vars, &decision.required_content, facts.language)
                .map_err(|v| Error::Corrupt(format!("template {}: {v}", kind.as_str())))?
        }
    };
    writes.push(Write::Outbox {
        account,
        channel,
        kind,
        recipient,
        body,
        dedupe_key,
        markup,
    });
    // No separate history entry: the engine reads the outbox as history, counting a
    // message from the moment it is queued (a cap must hold even if several are queued
    // before the first leaves) until it fails or is cancelled.
    Ok(Drafted { decision, writes })
}

/// A cadence in words for the audit log: steps, repeats, notice, help, and the agency's
/// own texts.
fn describe_cadence(c: &Cadence) -> String {
    let steps: Vec<String> = c
        .steps
        .iter()
        .map(|s| format!("day {} {}", s.day, s.kind.as_str()))
        .collect();
    let mut out = format!(
        "steps: {}; repeat every: {}; instalment notice: {} days; help: {}",
        steps.join(", "),
        c.repeat_every_days
            .map_or_else(|| "never".to_string(), |d| format!("{d} days")),
        c.instalment_notice_days,
        c.help_contact
    );
    for (kind, texts) in &c.templates {
        for (language, text) in texts {
            out.push_str(&format!("; {}/{language}: {text}", kind.as_str()));
        }
    }
    out
}

impl Accounts {
    /// The agency's cadence and texts (the defaults unless it saved its own): what every
    /// creditor without its own uses.
    pub async fn cadence(&self, agency: AgencyId) -> Result<Cadence> {
        let json: Option<String> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT cadence FROM messaging_settings WHERE agency_id = $1")
                .bind(agency.0)
                .fetch_optional(pool)
                .await?
        });
        match json {
            None => Ok(Cadence::default()),
            Some(j) => serde_json::from_str(&j).map_err(|e| Error::Corrupt(e.to_string())),
        }
    }

    /// The creditors of `agency` that have their own cadence, with it, by name.
    pub async fn creditor_cadences(&self, agency: AgencyId) -> Result<Vec<(String, Cadence)>> {
        let rows: Vec<(String, String)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT creditor, cadence FROM creditor_cadences WHERE agency_id = $1
                 ORDER BY creditor",
            )
            .bind(agency.0)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(c, j)| {
                serde_json::from_str(&j)
                    .map(|cadence| (c, cadence))
                    .map_err(|e| Error::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// The cadence the accounts of `creditor` follow: its own, else the agency's.
    pub async fn cadence_for(&self, agency: AgencyId, creditor: &str) -> Result<Cadence> {
        let json: Option<String> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT cadence FROM creditor_cadences WHERE agency_id = $1 AND creditor = $2",
            )
            .bind(agency.0)
            .bind(creditor)
            .fetch_optional(pool)
            .await?
        });
        match json {
            None => self.cadence(agency).await,
            Some(j) => serde_json::from_str(&j).map_err(|e| Error::Corrupt(e.to_string())),
        }
    }

    /// Saves, after checking them, an agency's cadence and texts (`creditor` empty) or one
    /// of its creditors' own.
    pub async fn set_cadence(
        &self,
        agency: AgencyId,
        creditor: &str,
        cadence: Cadence,
        by: &Actor,
    ) -> Result<()> {
        self.store_cadence(agency, creditor, cadence, by, None)
            .await
    }

    /// Saves, after checking them, the cadence and texts of `user`'s agency (`creditor`
    /// empty) or of one of its creditors (which then no longer follows the agency's),
    /// audited in the same transaction with what they now say.
    pub async fn save_cadence(
        &self,
        user: &AgencyUser,
        creditor: &str,
        cadence: Cadence,
    ) -> Result<()> {
        let whose = if creditor.is_empty() {
            "agency".to_string()
        } else {
            format!("creditor {creditor}")
        };
        let detail = format!("{whose}: {}", describe_cadence(&cadence));
        self.store_cadence(
            user.agency,
            creditor,
            cadence,
            &user.actor(),
            Some((user, detail)),
        )
        .await
    }

    /// Makes `creditor`'s accounts follow the agency's cadence again (audited in the same
    /// transaction); false when it had none of its own.
    pub async fn drop_creditor_cadence(&self, user: &AgencyUser, creditor: &str) -> Result<bool> {
        let now = self.clock.now();
        Ok(with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "DELETE FROM creditor_cadences WHERE agency_id = $1 AND creditor = $2",
            )
            .bind(user.agency.0)
            .bind(creditor)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                crate::console::audit_in!(
                    tx,
                    user.agency.0,
                    user.id,
                    "cadence",
                    None::<i64>,
                    format!("creditor {creditor}: follows the agency's cadence again"),
                    now
                );
            }
            tx.commit().await?;
            done == 1
        }))
    }

    async fn store_cadence(
        &self,
        agency: AgencyId,
        creditor: &str,
        cadence: Cadence,
        by: &Actor,
        audit: Option<(&AgencyUser, String)>,
    ) -> Result<()> {
        let cadence = cadence
            .validate()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let json = serde_json::to_string(&cadence).map_err(|e| Error::Corrupt(e.to_string()))?;
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            if creditor.is_empty() {
                sqlx::query(
                    "INSERT INTO messaging_settings (agency_id, cadence, updated_by, updated_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (agency_id) DO UPDATE SET cadence = excluded.cadence,
                        updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(agency.0)
                .bind(&json)
                .bind(by.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "INSERT INTO creditor_cadences (agency_id, creditor, cadence, updated_by, updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (agency_id, creditor) DO UPDATE SET cadence = excluded.cadence,
                        updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(agency.0)
                .bind(creditor)
                .bind(&json)
                .bind(by.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if let Some((user, detail)) = &audit {
                crate::console::audit_in!(
                    tx,
                    agency.0,
                    user.id,
                    "cadence",
                    None::<i64>,
                    detail,
                    now
                );
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Name, policy and cadences of an agency, cached in `cache` for the rest of a run.
    pub(crate) async fn agency_context<'c>(
        &self,
        agency: AgencyId,
        cache: &'c mut HashMap<i64, AgencyContext>,
    ) -> Result<&'c AgencyContext> {
        Ok(match cache.entry(agency.0) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let name: Option<String> = with_db!(&self.db, pool => {
                    sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
                        .bind(agency.0)
                        .fetch_optional(pool)
                        .await?
                });
                v.insert(AgencyContext {
                    name: name.ok_or(Error::NotFound("agency"))?,
                    policy: self.agency_policy(agency).await?,
                    cadence: self.cadence(agency).await?,
                    creditors: self.creditor_cadences(agency).await?.into_iter().collect(),
                })
            }
        })
    }

    /// Enrols an account in its agency's cadence at step 0, due at `due_at`; an account
    /// already enrolled keeps its place (each step is produced once per account).
    pub async fn start_cadence(&self, account: AccountId, due_at: DateTime<Utc>) -> Result<()> {
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO reminder_schedule (account_id, step, due_at, channel)
                 VALUES ($1, 0, $2, 'sms') ON CONFLICT (account_id) DO NOTHING",
            )
            .bind(account.0)
            .bind(due_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Cancels an account's messages still waiting in the outbox that `what` now forbids:
    /// called in the same unit of work as an opt-out, a refused medium, a hold or a dispute.
    pub(crate) async fn cancel_pending(&self, account: AccountId, what: Cancel) -> Result<u64> {
        let now = self.clock.now();
        let (filter, reason) = match what {
            Cancel::Channel(Channel::Sms) => (
                "channel = 'sms' AND kind <> 'opt_out_confirmation'",
                "the debtor opted out of or refused this medium",
            ),
            Cancel::Channel(Channel::Telegram) => (
                "channel = 'telegram' AND kind <> 'opt_out_confirmation'",
                "the debtor opted out of, refused or blocked this medium",
            ),
            Cancel::Channel(_) => return Ok(0),
            Cancel::Hold => (
                "kind NOT IN ('opt_out_confirmation')",
                "a hold was set on the account",
            ),
            Cancel::Collection => (
                "kind IN ('validation_link', 'reminder', 'instalment_due', 'instalment_failed',
                    'plan_broken')",
                "the debtor disputed the debt",
            ),
        };
        let sql = format!(
            "UPDATE outbox SET status = 'cancelled', error = $3, updated_at = $2
             WHERE account_id = $1 AND status = 'pending' AND {filter}"
        );
        Ok(with_db!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(account.0)
                .bind(now)
                .bind(reason)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}

/// Which waiting messages a change of the facts forbids.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cancel {
    /// Everything on the medium but the opt-out confirmation.
    Channel(Channel),
    /// Everything but confirmations.
    Hold,
    /// Collection messages (a dispute).
    Collection,
}
