//! The compliance engine's IO side: gathers an account's facts (preferences, consent per
//! medium, holds, disputes, recent contact history), asks the pure engine in
//! `domain::compliance`, and appends every decision with its reasons and a replayable
//! snapshot of the facts to the decision log.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use domain::compliance::{
    self, wire, AreaCode, Channel, ChannelSet, ConsumerFacts, ContactEvent, ContactQuestion,
    DebtFacts, Direction, LocalRange, Policy, Purpose,
};
use domain::{AccountId, Actor, AgencyId, UsState};
use serde::Serialize;

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::messaging::Cancel;
use crate::Accounts;

/// A hold the agency (or the reply classifier) sets on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldKind {
    /// An attorney represents the consumer (12 CFR 1006.6(b)(2)).
    Attorney,
    /// The consumer asked in writing that communication stop (12 CFR 1006.6(c)).
    Cease,
    /// The consumer filed for bankruptcy.
    Bankruptcy,
    /// The consumer died.
    Deceased,
}

impl HoldKind {
    /// Every kind.
    pub const ALL: [HoldKind; 4] = [
        HoldKind::Attorney,
        HoldKind::Cease,
        HoldKind::Bankruptcy,
        HoldKind::Deceased,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldKind::Attorney => "attorney",
            HoldKind::Cease => "cease",
            HoldKind::Bankruptcy => "bankruptcy",
            HoldKind::Deceased => "deceased",
        }
    }
}

impl fmt::Display for HoldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HoldKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        HoldKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::Invalid(format!("`{s}` is not a hold kind")))
    }
}

/// A hold as recorded: who set it and why, and who lifted it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Its id.
    pub id: i64,
    /// The kind.
    pub kind: HoldKind,
    /// Why it was set.
    pub reason: String,
    /// For an attorney: how to reach them.
    pub contact: Option<String>,
    /// Who set it (`user:<id>`, `system:sms-reply`...).
    pub set_by: String,
    /// When.
    pub set_at: DateTime<Utc>,
    /// When, by whom and why it was lifted; `None` while it is active.
    pub cleared: Option<(DateTime<Utc>, String, String)>,
}

#[derive(sqlx::FromRow)]
struct HoldRow {
    id: i64,
    kind: String,
    reason: String,
    contact: Option<String>,
    set_by: String,
    set_at: DateTime<Utc>,
    cleared_by: Option<String>,
    cleared_reason: Option<String>,
    cleared_at: Option<DateTime<Utc>>,
}

/// What the consumer told us about when and how to reach them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPreferences {
    /// The consumer's own time zone, which then alone decides local time.
    pub time_zone: Option<chrono_tz::Tz>,
    /// Local times that are inconvenient.
    pub inconvenient_times: Vec<LocalRange>,
}

/// A change to the consumer's stance on one medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentChange {
    /// Consent given (or given again after an opt-out: START, a portal checkbox).
    Consent,
    /// Opted out (STOP, a portal switch, "stop texting me").
    OptOut,
    /// The consumer asked that the medium not be used (12 CFR 1006.14(h)).
    Refuse,
    /// The consumer withdrew that request.
    Unrefuse,
}

/// One entry of the decision log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedDecision {
    /// Log entry id.
    pub id: i64,
    /// The account asked about.
    pub account_id: i64,
    /// When it was decided.
    pub decided_at: DateTime<Utc>,
    /// The medium.
    pub channel: String,
    /// The purpose.
    pub purpose: String,
    /// `allow`, `defer` or `deny`.
    pub decision: String,
    /// Reason codes, in order.
    pub reasons: Vec<String>,
    /// Citations, one per reason.
    pub citations: Vec<String>,
    /// On defer, when to ask again.
    pub next_allowed_at: Option<DateTime<Utc>>,
    /// On allow, what the message must contain.
    pub required_content: Vec<String>,
    /// The question as the dry run reads it: `settle compliance check` replays it.
    pub facts: String,
}

fn split(list: &str, sep: &str) -> Vec<String> {
    if list.is_empty() {
        Vec::new()
    } else {
        list.split(sep).map(str::to_string).collect()
    }
}

fn parse_ranges(text: &str) -> Result<Vec<LocalRange>> {
    text.split(',')
        .filter(|r| !r.is_empty())
        .map(|r| {
            let (from, to) = r
                .split_once('-')
                .ok_or_else(|| Error::Corrupt(format!("time range `{r}`")))?;
            LocalRange::parse(from, to).map_err(Error::Corrupt)
        })
        .collect()
}

fn corrupt(e: impl fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

#[derive(sqlx::FromRow)]
struct ConsentRowWithId {
    account_id: i64,
    #[sqlx(flatten)]
    row: ConsentRow,
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    channel: String,
    consented: bool,
    opted_out: bool,
    opted_out_at: Option<DateTime<Utc>>,
    refused: bool,
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    account_id: i64,
    decided_at: DateTime<Utc>,
    channel: String,
    purpose: String,
    decision: String,
    reasons: String,
    citations: String,
    next_allowed_at: Option<DateTime<Utc>>,
    required_content: String,
    facts: String,
}

impl From<DecisionRow> for LoggedDecision {
    fn from(r: DecisionRow) -> Self {
        LoggedDecision {
            id: r.id,
            account_id: r.account_id,
            decided_at: r.decided_at,
            channel: r.channel,
            purpose: r.purpose,
            decision: r.decision,
            reasons: split(&r.reasons, ","),
            citations: split(&r.citations, " | "),
            next_allowed_at: r.next_allowed_at,
            required_content: split(&r.required_content, ","),
            facts: r.facts,
        }
    }
}

/// The list of ids as a JSON array, bound as one text parameter on both engines.
pub(crate) fn ids_json(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 8 + 2);
    s.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s.push(']');
    s
}

/// `IN` operand reading the ids of [`ids_json`] from parameter `$1`.
pub(crate) fn in_list(engine: crate::Engine) -> &'static str {
    match engine {
        crate::Engine::Sqlite => "(SELECT value FROM json_each($1))",
        crate::Engine::Postgres => "(SELECT jsonb_array_elements_text($1::jsonb)::bigint)",
    }
}

/// What the compliance engine needs to know of one account, whatever the medium.
#[derive(Debug, Clone)]
pub(crate) struct AccountFacts {
    /// The agency collecting it.
    pub agency: AgencyId,
    /// The creditor it is collected for (whose cadence it follows).
    pub creditor: String,
    /// The debtor's first name (for templates).
    pub first_name: String,
    /// The debtor's phone.
    pub phone: Option<String>,
    /// The Telegram chat bound to the account (the latest, not blocked), if any.
    pub telegram_chat: Option<i64>,
    /// The debtor's language.
    pub language: domain::Language,
    /// Everything about the consumer but `opted_out_at`, which depends on the medium.
    pub consumer: ConsumerFacts,
    /// When each opted-out medium was opted out of.
    pub opted_out_at: Vec<(Channel, Option<DateTime<Utc>>)>,
    /// A dispute waits for an answer.
    pub dispute_open: bool,
    /// The recent contact history.
    pub history: Vec<ContactEvent>,
}

impl AccountFacts {
    /// Where reminders and payment messages go: a bound Telegram chat the debtor has not
    /// opted out of (they chose it), else the phone; `None` when neither is usable.
    pub fn reminder_channel(&self) -> Option<Channel> {
        let open = |c: Channel| {
            !self.consumer.opted_out.contains(c) && !self.consumer.refused_channels.contains(c)
        };
        if self.telegram_chat.is_some() && open(Channel::Telegram) {
            Some(Channel::Telegram)
        } else if self.phone.is_some() {
            Some(Channel::Sms)
        } else {
            None
        }
    }

    /// The question for a message on `channel` for `purpose`.
    pub fn question(&self, channel: Channel, purpose: Purpose) -> ContactQuestion {
        let mut consumer = self.consumer.clone();
        consumer.opted_out_at = self
            .opted_out_at
            .iter()
            .find(|(c, _)| *c == channel)
            .and_then(|(_, at)| *at);
        ContactQuestion {
            channel,
            purpose,
            consumer,
            debt: DebtFacts {
                dispute_open: self.dispute_open,
            },
            history: self.history.clone(),
        }
    }
}

impl Accounts {
    /// Sets a hold on an account, with why and, for an attorney, how to reach them;
    /// refuses a second active hold of the same kind.
    pub async fn set_hold(
        &self,
        account: AccountId,
        kind: HoldKind,
        reason: &str,
        contact: Option<&str>,
        by: &Actor,
    ) -> Result<i64> {
        if reason.trim().is_empty() {
            return Err(Error::Invalid("a hold needs a reason".into()));
        }
        let now = self.clock.now();
        let contact = contact.map(str::trim).filter(|c| !c.is_empty());
        let inserted: Result<i64, sqlx::Error> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO holds (account_id, kind, reason, set_by, set_at, contact)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(account.0)
            .bind(kind.as_str())
            .bind(reason.trim())
            .bind(by.to_string())
            .bind(now)
            .bind(contact)
            .fetch_one(pool)
            .await
        });
        match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Invalid(
                format!("the account already has an active {kind} hold"),
            )),
            other => {
                let id = other?;
                self.cancel_pending(account, Cancel::Hold).await?;
                Ok(id)
            }
        }
    }

    /// Lifts the active hold of `kind`; a reason is required and recorded.
    pub async fn clear_hold(
        &self,
        account: AccountId,
        kind: HoldKind,
        reason: &str,
        by: &Actor,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(Error::Invalid("clearing a hold needs a reason".into()));
        }
        let now = self.clock.now();
        let changed = with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE holds SET cleared_by = $1, cleared_reason = $2, cleared_at = $3
                 WHERE account_id = $4 AND kind = $5 AND cleared_at IS NULL",
            )
            .bind(by.to_string())
            .bind(reason)
            .bind(now)
            .bind(account.0)
            .bind(kind.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Err(Error::NotFound("active hold"));
        }
        Ok(())
    }

    /// Every hold the account ever had, newest first, with who set and cleared it and why.
    pub async fn holds(&self, account: AccountId) -> Result<Vec<Hold>> {
        let rows: Vec<HoldRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, kind, reason, contact, set_by, set_at, cleared_by, cleared_reason,
                        cleared_at
                 FROM holds WHERE account_id = $1 ORDER BY set_at DESC, id DESC",
            )
            .bind(account.0)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(Hold {
                    id: r.id,
                    kind: r.kind.parse()?,
                    reason: r.reason,
                    contact: r.contact,
                    set_by: r.set_by,
                    set_at: r.set_at,
                    cleared: match (r.cleared_at, r.cleared_by) {
                        (Some(at), Some(by)) => {
                            Some((at, by, r.cleared_reason.unwrap_or_default()))
                        }
                        _ => None,
                    },
                })
            })
            .collect()
    }

    /// The kinds of the account's active holds.
    pub async fn active_holds(&self, account: AccountId) -> Result<Vec<HoldKind>> {
        let kinds: Vec<String> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT kind FROM holds WHERE account_id = $1 AND cleared_at IS NULL ORDER BY kind",
            )
            .bind(account.0)
            .fetch_all(pool)
            .await?
        });
        kinds.iter().map(|k| k.parse()).collect()
    }

    /// Saves the consumer's time zone and inconvenient times.
    pub async fn set_contact_preferences(
        &self,
        account: AccountId,
        prefs: &ContactPreferences,
    ) -> Result<()> {
        let now = self.clock.now();
        let ranges = prefs
            .inconvenient_times
            .iter()
            .map(|r| format!("{}-{}", r.from().format("%H:%M"), r.to().format("%H:%M")))
            .collect::<Vec<_>>()
            .join(",");
        let tz = prefs.time_zone.map(|z| z.name());
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO contact_preferences (account_id, time_zone, inconvenient_times, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id) DO UPDATE SET time_zone = excluded.time_zone,
                    inconvenient_times = excluded.inconvenient_times, updated_at = excluded.updated_at",
            )
            .bind(account.0)
            .bind(tz)
            .bind(&ranges)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The consumer's saved preferences (defaults when none were saved).
    pub async fn contact_preferences(&self, account: AccountId) -> Result<ContactPreferences> {
        let row: Option<(Option<String>, String)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT time_zone, inconvenient_times FROM contact_preferences WHERE account_id = $1",
            )
            .bind(account.0)
            .fetch_optional(pool)
            .await?
        });
        let Some((tz, ranges)) = row else {
            return Ok(ContactPreferences::default());
        };
        Ok(ContactPreferences {
            time_zone: tz.as_deref().map(str::parse).transpose().map_err(corrupt)?,
            inconvenient_times: parse_ranges(&ranges)?,
        })
    }

    /// Records a change of consent, opt-out or refusal on one medium.
    pub async fn change_consent(
        &self,
        account: AccountId,
        channel: Channel,
        change: ConsentChange,
        source: &str,
    ) -> Result<()> {
        let now = self.clock.now();
        let set = match change {
            ConsentChange::Consent => "consented = TRUE, opted_out = FALSE, opted_out_at = NULL",
            ConsentChange::OptOut => "opted_out = TRUE, opted_out_at = $4",
            ConsentChange::Refuse => "refused = TRUE",
            ConsentChange::Unrefuse => "refused = FALSE",
        };
        let sql = "INSERT INTO channel_consents (account_id, channel, source, updated_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, channel) DO NOTHING";
        let update = format!(
            "UPDATE channel_consents SET {set}, source = $3, updated_at = $4
             WHERE account_id = $1 AND channel = $2"
        );
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for stmt in [sql, update.as_str()] {
                sqlx::query(stmt)
                    .bind(account.0)
                    .bind(channel.as_str())
                    .bind(source)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        if matches!(change, ConsentChange::OptOut | ConsentChange::Refuse) {
            self.cancel_pending(account, Cancel::Channel(channel))
                .await?;
        }
        Ok(())
    }

    /// Adds a message to the account's contact history.
    pub async fn record_contact(&self, account: AccountId, event: &ContactEvent) -> Result<i64> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO contact_events (account_id, at, channel, direction, purpose)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(account.0)
            .bind(event.at)
            .bind(event.channel.as_str())
            .bind(event.direction.as_str())
            .bind(event.purpose.as_str())
            .fetch_one(pool)
            .await?
        }))
    }

    /// The agency's contact policy (the legal defaults unless it saved a stricter one).
    pub async fn agency_policy(&self, agency: AgencyId) -> Result<Policy> {
        let json: Option<String> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT policy FROM compliance_policies WHERE agency_id = $1")
                .bind(agency.0)
                .fetch_optional(pool)
                .await?
        });
        match json {
            None => Ok(Policy::default()),
            Some(j) => serde_json::from_str(&j).map_err(corrupt),
        }
    }

    /// Saves an agency's policy; refuses one looser than the law or the defaults.
    pub async fn set_agency_policy(
        &self,
        agency: AgencyId,
        policy: Policy,
        by: &Actor,
    ) -> Result<Policy> {
        let policy = policy
            .validate()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let json = serde_json::to_string(&policy).map_err(corrupt)?;
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO compliance_policies (agency_id, policy, updated_by, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (agency_id) DO UPDATE SET policy = excluded.policy,
                    updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(agency.0)
            .bind(&json)
            .bind(by.to_string())
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(policy)
    }

    /// Gathers what the engine needs to judge a message to `account` on `channel`.
    pub async fn contact_question(
        &self,
        account: AccountId,
        channel: Channel,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<(AgencyId, ContactQuestion)> {
        let mut facts = self.load_facts(&[account.0], now).await?;
        let facts = facts.remove(&account.0).ok_or(Error::NotFound("account"))?;
        Ok((facts.agency, facts.question(channel, purpose)))
    }

    /// The facts of many accounts at once, in a fixed number of queries: what the
    /// scheduling run reads for each batch, and what a single decision reads for one.
    /// Every fact belongs to one of `ids` (the SQLite run decides a batch ahead while the
    /// one before it is written, which is sound only while no fact spans accounts).
    pub(crate) async fn load_facts(
        &self,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<HashMap<i64, AccountFacts>> {
        let list = ids_json(ids);
        let set = in_list(self.engine());
        let since = now - Duration::days(8);
        type AccountCols = (
            i64,
            i64,
            String,
            String,
            Option<String>,
            String,
            String,
            Option<String>,
            String,
            bool,
        );
        type EventCols = (i64, DateTime<Utc>, String, String, String);
        let (accounts, prefs, holds, disputes, consents, recent, older, chats) = with_db!(&self.db, pool => {
            let accounts: Vec<AccountCols> = sqlx::query_as(&format!(
                "SELECT id, agency_id, creditor, first_name, phone, state, postal_code, time_zone,
                        language, sms_consent
                 FROM accounts WHERE id IN {set}"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?;
            let prefs: Vec<(i64, Option<String>, String)> = sqlx::query_as(&format!(
                "SELECT account_id, time_zone, inconvenient_times FROM contact_preferences
                 WHERE account_id IN {set}"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?;
            let holds: Vec<(i64, String)> = sqlx::query_as(&format!(
                "SELECT account_id, kind FROM holds WHERE cleared_at IS NULL AND account_id IN {set}"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?;
            let disputes: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT DISTINCT account_id FROM disputes WHERE status = 'open' AND account_id IN {set}"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?;
            let consents: Vec<(i64, ConsentRow)> = sqlx::query_as::<_, ConsentRowWithId>(&format!(
                "SELECT account_id, channel, consented, opted_out, opted_out_at, refused
                 FROM channel_consents WHERE account_id IN {set}"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.account_id, r.row))
            .collect();
            // Messages Settle sent are read from the outbox itself, so one that failed, bounced
            // or was cancelled never counts (nor makes the next one a "subsequent" message);
            // one queued or in review does, to be safe.
            let recent: Vec<EventCols> = sqlx::query_as(&format!(
                "SELECT account_id, at, channel, direction, purpose FROM contact_events
                 WHERE account_id IN {set} AND at > $2 AND at <= $3
                 UNION ALL
                 SELECT account_id, created_at, channel, 'outbound', purpose FROM outbox
                 WHERE account_id IN {set} AND created_at > $2 AND created_at <= $3
                   AND status NOT IN ('failed', 'cancelled')
                 ORDER BY 2"
            ))
            .bind(&list)
            .bind(since)
            .bind(now)
            .fetch_all(pool)
            .await?;
            // The latest earlier outbound message decides initial vs. subsequent disclosure;
            // only its time matters, so its medium and purpose are not read back.
            let older: Vec<EventCols> = sqlx::query_as(&format!(
                "SELECT account_id, MAX(at), 'sms', 'outbound', 'reminder' FROM (
                     SELECT account_id, at FROM contact_events
                     WHERE account_id IN {set} AND direction = 'outbound' AND at <= $2
                     UNION ALL
                     SELECT account_id, created_at FROM outbox
                     WHERE account_id IN {set} AND created_at <= $2
                       AND status NOT IN ('failed', 'cancelled')
                 ) o GROUP BY account_id"
            ))
            .bind(&list)
            .bind(since)
            .fetch_all(pool)
            .await?;
            // The latest bound chat wins when a debtor bound more than one.
            let chats: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT account_id, chat_id FROM telegram_chats
                 WHERE blocked_at IS NULL AND account_id IN {set} ORDER BY bound_at, chat_id"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?;
            (accounts, prefs, holds, disputes, consents, recent, older, chats)
        });
        let chats: HashMap<i64, i64> = chats.into_iter().collect();
        let mut out: HashMap<i64, AccountFacts> = HashMap::with_capacity(accounts.len());
        for (id, agency, creditor, first_name, phone, state, postal, tz, language, sms_consent) in
            accounts
        {
            let mut consented = ChannelSet::EMPTY;
            if sms_consent {
                consented.insert(Channel::Sms);
            }
            let state: UsState = state.parse().map_err(corrupt)?;
            out.insert(
                id,
                AccountFacts {
                    agency: AgencyId(agency),
                    creditor,
                    first_name,
                    language: language.parse().map_err(corrupt)?,
                    consumer: ConsumerFacts {
                        area_code: match &phone {
                            Some(p) => AreaCode::of_e164(p).map_err(Error::Corrupt)?,
                            None => None,
                        },
                        state: Some(state),
                        postal_code: Some(domain::PostalCode::parse(&postal).map_err(corrupt)?),
                        time_zone: tz.as_deref().map(str::parse).transpose().map_err(corrupt)?,
                        consented,
                        ..ConsumerFacts::default()
                    },
                    phone,
                    telegram_chat: chats.get(&id).copied(),
                    opted_out_at: Vec::new(),
                    dispute_open: false,
                    history: Vec::new(),
                },
            );
        }
        for (id, tz, ranges) in prefs {
            if let Some(f) = out.get_mut(&id) {
                if let Some(tz) = tz {
                    f.consumer.time_zone = Some(tz.parse().map_err(corrupt)?);
                }
                f.consumer.inconvenient_times = parse_ranges(&ranges)?;
            }
        }
        for (id, kind) in holds {
            if let Some(f) = out.get_mut(&id) {
                match kind.parse::<HoldKind>()? {
                    HoldKind::Attorney => f.consumer.attorney_represented = true,
                    HoldKind::Cease => f.consumer.cease_requested = true,
                    HoldKind::Bankruptcy => f.consumer.bankruptcy = true,
                    HoldKind::Deceased => f.consumer.deceased = true,
                }
            }
        }
        for id in disputes {
            if let Some(f) = out.get_mut(&id) {
                f.dispute_open = true;
            }
        }
        for (id, row) in consents {
            if let Some(f) = out.get_mut(&id) {
                let ch: Channel = row.channel.parse().map_err(Error::Corrupt)?;
                if row.consented {
                    f.consumer.consented.insert(ch);
                }
                if row.opted_out {
                    f.consumer.opted_out.insert(ch);
                    f.opted_out_at.push((ch, row.opted_out_at));
                }
                if row.refused {
                    f.consumer.refused_channels.insert(ch);
                }
            }
        }
        let mut seen_older = std::collections::HashSet::new();
        for (id, at, channel, direction, purpose) in recent
            .into_iter()
            .chain(older.into_iter().filter(|e| seen_older.insert(e.0)))
        {
            if let Some(f) = out.get_mut(&id) {
                f.history.push(ContactEvent {
                    at,
                    channel: channel.parse().map_err(Error::Corrupt)?,
                    direction: match direction.as_str() {
                        "inbound" => Direction::Inbound,
                        _ => Direction::Outbound,
                    },
                    purpose: purpose.parse().map_err(Error::Corrupt)?,
                });
            }
        }
        Ok(out)
    }

    /// Decides whether a message may go to `account` now, and logs the decision.
    pub async fn decide_contact(
        &self,
        account: AccountId,
        channel: Channel,
        purpose: Purpose,
    ) -> Result<LoggedDecision> {
        let now = self.clock.now();
        let (agency, question) = self
            .contact_question(account, channel, purpose, now)
            .await?;
        let policy = self.agency_policy(agency).await?;
        let decision = compliance::decide(&question, &policy, now);
        let facts = wire::question_to_value(
            &serde_json::Value::String(format!("account:{}", account.0)),
            &question,
            now,
        )
        .to_string();
        let reasons = decision.reason_codes().join(",");
        let citations = decision.citations().join(" | ");
        let content = decision
            .required_content
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(",");
        let id: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO compliance_decisions (agency_id, account_id, decided_at, channel,
                    purpose, decision, reasons, citations, next_allowed_at, required_content, facts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(agency.0)
            .bind(account.0)
            .bind(now)
            .bind(channel.as_str())
            .bind(purpose.as_str())
            .bind(decision.verdict.as_str())
            .bind(&reasons)
            .bind(&citations)
            .bind(decision.next_allowed_at)
            .bind(&content)
            .bind(&facts)
            .fetch_one(pool)
            .await?
        });
        tracing::info!(
            account = account.0,
            channel = %channel,
            purpose = %purpose,
            decision = %decision.verdict,
            reasons = %reasons,
            "compliance decision"
        );
        Ok(LoggedDecision {
            id,
            account_id: account.0,
            decided_at: now,
            channel: channel.as_str().into(),
            purpose: purpose.as_str().into(),
            decision: decision.verdict.as_str().into(),
            reasons: split(&reasons, ","),
            citations: split(&citations, " | "),
            next_allowed_at: decision.next_allowed_at,
            required_content: split(&content, ","),
            facts,
        })
    }

    /// The account's logged decisions, newest first, at most `limit`.
    pub async fn decision_log(
        &self,
        account: AccountId,
        limit: i64,
    ) -> Result<Vec<LoggedDecision>> {
        let rows: Vec<DecisionRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, account_id, decided_at, channel, purpose, decision, reasons, citations,
                        next_allowed_at, required_content, facts
                 FROM compliance_decisions WHERE account_id = $1
                 ORDER BY decided_at DESC, id DESC LIMIT $2",
            )
            .bind(account.0)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
