//! The scheduling run: finds every message that is due (cadence steps, instalments due
//! soon, payment messages), asks the compliance engine, and writes each decision with its
//! outbox row in one transaction per batch.
//!
//! Accounts are read in batches claimed from `reminder_schedule` by due time, so memory
//! does not grow with the number of accounts. On PostgreSQL a batch is claimed with
//! `FOR UPDATE SKIP LOCKED`, so several workers share a run without producing a message
//! twice; on SQLite writers take turns (`BEGIN IMMEDIATE`; one run at a time in a process),
//! and a run reads and decides the next batch on other connections while it writes the
//! current one.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use domain::compliance::{Channel, ContactEvent, Direction, Verdict};
use domain::messaging::MessageKind;
use domain::AgencyId;
use serde::Serialize;
use sqlx::{Connection as _, SqlitePool};

use super::{
    apply_bulk, apply_writes, draft, AgencyContext, LinkSettings, Message, Write, BULK_ROWS,
};
use crate::compliance::{ids_json, in_list};
use crate::db::{with_db, Db};
use crate::{Accounts, Engine, Result};

/// How a run works.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Accounts per transaction.
    pub batch: i64,
    /// Where links point and how long they work.
    pub links: LinkSettings,
}

/// What a run did, by outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// Messages considered (one compliance decision each).
    pub decided: u64,
    /// Allowed and written to the outbox.
    pub queued: u64,
    /// Deferred to the engine's next allowed time.
    pub deferred: u64,
    /// Denied (logged; asked again a day later while the reason lasts).
    pub denied: u64,
    /// Cadences that ended: nothing owed, or no more steps.
    pub finished: u64,
    /// Cadences paused without a decision: an active plan, or no phone.
    pub paused: u64,
    /// Accounts whose message could not be prepared (bad stored data, a broken template):
    /// logged and tried again a day later, without stopping the run.
    pub errors: u64,
}

impl RunReport {
    fn count(&mut self, verdict: Verdict) {
        self.decided += 1;
        match verdict {
            Verdict::Allow => self.queued += 1,
            Verdict::Defer => self.deferred += 1,
            Verdict::Deny => self.denied += 1,
        }
    }

    fn add(&mut self, other: RunReport) {
        self.decided += other.decided;
        self.queued += other.queued;
        self.deferred += other.deferred;
        self.denied += other.denied;
        self.finished += other.finished;
        self.paused += other.paused;
        self.errors += other.errors;
    }
}

/// How long a denied message waits before it is asked about again (the fact that denied
/// it, such as an opt-out or a hold, may change; the log gets one entry per check).
const DENY_RECHECK_HOURS: i64 = 72;
/// How long a cadence pauses while a plan runs or no medium is known.
const PAUSE_DAYS: i64 = 7;

fn begin_sql(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "BEGIN IMMEDIATE",
        Engine::Postgres => "BEGIN",
    }
}

fn lock_clause(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "",
        Engine::Postgres => "FOR UPDATE OF r SKIP LOCKED",
    }
}

type ScheduleRow = (i64, i64, String);

/// A claimed row with its due time as stored (the keyset cursor compares the stored text).
type SqliteScheduleRow = (i64, i64, String, String);

/// SQLite: the first due rows, in due order.
const SQLITE_CLAIM_FIRST: &str = "SELECT account_id, step, channel, due_at FROM reminder_schedule
    WHERE due_at <= $1 ORDER BY due_at, account_id LIMIT $2";

/// SQLite: the due rows after (`$3`, `$4`) in due order: the batch after one being written.
const SQLITE_CLAIM_AFTER: &str = "SELECT account_id, step, channel, due_at FROM reminder_schedule
    WHERE due_at <= $1 AND (due_at, account_id) > ($3, $4)
    ORDER BY due_at, account_id LIMIT $2";

/// A batch claimed and decided, not yet written.
struct Planned {
    /// Rows claimed (a full batch means more may be due).
    claimed: i64,
    /// The last row's due time (as stored) and account: where the next batch starts.
    cursor: Option<(String, i64)>,
    /// What the batch's decisions were.
    report: RunReport,
    /// The rows that record them.
    writes: Vec<Write>,
}

/// PostgreSQL only: holds each account's advisory lock until the batch commits, taken in
/// id order (so two batches never wait on each other in a cycle). A cadence step and a
/// payment message for the same account, claimed by two workers at once, are then decided
/// one after the other, the second seeing the first's message in the history its facts
/// are read from; without it each could pass a frequency cap on its own. `$1`: the sorted
/// ids as a JSON array.
const LOCK_ACCOUNTS: &str = "SELECT pg_advisory_xact_lock(id) FROM (
    SELECT jsonb_array_elements_text($1::jsonb)::bigint AS id ORDER BY 1) s";

/// The distinct ids, sorted, as the JSON array [`LOCK_ACCOUNTS`] reads.
fn lock_list(ids: impl Iterator<Item = i64>) -> String {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids_json(&ids)
}
type RequestRow = (i64, i64, String, String);

impl Accounts {
    /// One full scheduling run at the clock's now: instalments due soon become message
    /// requests, then due cadence steps and pending requests are decided in batches until
    /// none is left.
    pub async fn run_schedule(&self, options: &RunOptions) -> Result<RunReport> {
        let now = self.clock.now();
        let mut agencies = HashMap::new();
        self.request_instalment_notices(now).await?;
        let mut report = RunReport::default();
        match &self.db {
            Db::Sqlite(pool) => {
                let batches = self
                    .schedule_sqlite(pool, options, now, &mut agencies)
                    .await?;
                report.add(batches);
            }
            Db::Postgres(_) => loop {
                let (batch, claimed) = self.schedule_batch(options, now, &mut agencies).await?;
                report.add(batch);
                if claimed < options.batch {
                    break;
                }
            },
        }
        loop {
            let (batch, claimed) = self.request_batch(options, now, &mut agencies).await?;
            report.add(batch);
            if claimed < options.batch {
                break;
            }
        }
        tracing::info!(
            decided = report.decided,
            queued = report.queued,
            deferred = report.deferred,
            denied = report.denied,
            "scheduling run"
        );
        Ok(report)
    }

    /// Instalments of active plans due within their notice window (the creditor's
    /// cadence's, else the agency's) get a "due soon" request, once each (the request's
    /// unique subject).
    async fn request_instalment_notices(&self, now: DateTime<Utc>) -> Result<()> {
        let today = now.date_naive();
        for agency in self.agencies().await? {
            let mut windows = vec![(None, self.cadence(agency.id).await?.instalment_notice_days)];
            windows.extend(
                self.creditor_cadences(agency.id)
                    .await?
                    .into_iter()
                    .map(|(creditor, c)| (Some(creditor), c.instalment_notice_days)),
            );
            for (creditor, days) in windows {
                if days == 0 {
                    continue;
                }
                let horizon =
                    today + Duration::days(i64::from(days.min(domain::messaging::MAX_NOTICE_DAYS)));
                let whose = match creditor {
                    Some(_) => "a.creditor = $5",
                    None => {
                        "a.creditor NOT IN (SELECT creditor FROM creditor_cadences WHERE agency_id = $4)"
                    }
                };
                let sql = format!(
                    "INSERT INTO message_requests (account_id, purpose, subject, link_path, created_at)
                     SELECT p.account_id, 'instalment_due', 'instalment:' || i.id, '/plan', $1
                     FROM plan_instalments i JOIN plans p ON p.id = i.plan_id
                     JOIN accounts a ON a.id = p.account_id
                     WHERE a.agency_id = $4 AND {whose} AND p.status = 'active'
                       AND i.status = 'scheduled' AND i.due_on >= $2 AND i.due_on <= $3
                     ON CONFLICT (purpose, subject) DO NOTHING"
                );
                with_db!(&self.db, pool => {
                    let mut query = sqlx::query(&sql)
                        .bind(now)
                        .bind(today)
                        .bind(horizon)
                        .bind(agency.id.0);
                    if let Some(creditor) = &creditor {
                        query = query.bind(creditor.as_str());
                    }
                    query.execute(pool).await?;
                });
            }
        }
        Ok(())
    }

    /// SQLite's scheduling loop. While batch N is written on one connection, batch N+1 is
    /// claimed (after N's last row in due order), read and decided on others. It is used
    /// only if no other connection committed between N's `BEGIN IMMEDIATE` and N+1's
    /// (`PRAGMA data_version` on the writing connection is unchanged): its facts are then
    /// exactly those N+1's transaction would read, since N writes only its own accounts.
    /// Otherwise (a debtor opted out meanwhile) it is claimed and decided again inside its
    /// own transaction.
    async fn schedule_sqlite(
        &self,
        pool: &SqlitePool,
        options: &RunOptions,
        now: DateTime<Utc>,
        agencies: &mut HashMap<i64, AgencyContext>,
    ) -> Result<RunReport> {
        let _one_run = self.sqlite_run.lock().await;
        let mut report = RunReport::default();
        let mut conn = pool.acquire().await?;
        let mut ahead: Option<Planned> = None;
        let mut last_version: Option<i64> = None;
        loop {
            let started = std::time::Instant::now();
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let version: i64 = sqlx::query_scalar("PRAGMA data_version")
                .fetch_one(&mut *tx)
                .await?;
            let reused = ahead.is_some() && last_version == Some(version);
            let planned = match ahead.take() {
                Some(planned) if reused => planned,
                _ => {
                    let rows: Vec<SqliteScheduleRow> = sqlx::query_as(SQLITE_CLAIM_FIRST)
                        .bind(now)
                        .bind(options.batch)
                        .fetch_all(&mut *tx)
                        .await?;
                    self.plan_sqlite_batch(rows, options, now, agencies).await?
                }
            };
            last_version = Some(version);
            let planned_in = started.elapsed();
            let Planned {
                claimed,
                cursor,
                report: batch,
                writes,
            } = planned;
            let full = claimed >= options.batch;
            // The next batch is decided on another task: deciding is CPU work that would
            // otherwise hold up this task between the write statements.
            let next = match cursor {
                Some((due_at, account)) if full => {
                    let me = self.clone();
                    let pool = pool.clone();
                    let options = options.clone();
                    let mut known = std::mem::take(agencies);
                    Some(tokio::spawn(async move {
                        let planned = me
                            .plan_after(&pool, &options, now, (due_at, account), &mut known)
                            .await;
                        (planned, known)
                    }))
                }
                _ => None,
            };
            let written = async {
                apply_bulk!(tx, Engine::Sqlite, writes, now);
                tx.commit().await?;
                Ok::<_, crate::Error>(())
            }
            .await;
            if let Err(e) = written {
                // The read-ahead would go on reading after the run has failed.
                if let Some(next) = &next {
                    next.abort();
                }
                return Err(e);
            }
            let written_in = started.elapsed();
            report.add(batch);
            let ahead_ready = match next {
                Some(next) => Some(match next.await {
                    Ok(done) => done,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    // Only a runtime shutting down cancels it.
                    Err(e) => {
                        return Err(crate::Error::Unavailable(format!(
                            "scheduling read-ahead cancelled: {e}"
                        )))
                    }
                }),
                None => None,
            };
            tracing::debug!(
                accounts = claimed,
                reused,
                plan_ms = planned_in.as_millis() as u64,
                write_ms = (written_in - planned_in).as_millis() as u64,
                wait_ms = (started.elapsed() - written_in).as_millis() as u64,
                "scheduling batch"
            );
            let Some((planned, known)) = ahead_ready else {
                return Ok(report);
            };
            *agencies = known;
            ahead = Some(planned?);
        }
    }

    /// SQLite: claims (outside any transaction) and decides the batch after `cursor`.
    async fn plan_after(
        &self,
        pool: &SqlitePool,
        options: &RunOptions,
        now: DateTime<Utc>,
        cursor: (String, i64),
        agencies: &mut HashMap<i64, AgencyContext>,
    ) -> Result<Planned> {
        let rows: Vec<SqliteScheduleRow> = sqlx::query_as(SQLITE_CLAIM_AFTER)
            .bind(now)
            .bind(options.batch)
            .bind(cursor.0)
            .bind(cursor.1)
            .fetch_all(pool)
            .await?;
        self.plan_sqlite_batch(rows, options, now, agencies).await
    }

    /// Decides one SQLite batch of claimed rows.
    async fn plan_sqlite_batch(
        &self,
        rows: Vec<SqliteScheduleRow>,
        options: &RunOptions,
        now: DateTime<Utc>,
        agencies: &mut HashMap<i64, AgencyContext>,
    ) -> Result<Planned> {
        let cursor = rows.last().map(|r| (r.3.clone(), r.0));
        let rows: Vec<ScheduleRow> = rows.into_iter().map(|r| (r.0, r.1, r.2)).collect();
        let (report, writes) = self.plan_schedule(&rows, options, now, agencies).await?;
        Ok(Planned {
            claimed: rows.len() as i64,
            cursor,
            report,
            writes,
        })
    }

    /// One PostgreSQL batch: claimed with `FOR UPDATE SKIP LOCKED` (several workers share a
    /// run), decided and written in one transaction. Returns how many rows it claimed.
    async fn schedule_batch(
        &self,
        options: &RunOptions,
        now: DateTime<Utc>,
        agencies: &mut HashMap<i64, AgencyContext>,
    ) -> Result<(RunReport, i64)> {
        let engine = self.engine();
        let claim = format!(
            "SELECT r.account_id, r.step, r.channel FROM reminder_schedule r
             WHERE r.due_at <= $1 ORDER BY r.due_at, r.account_id LIMIT $2 {}",
            lock_clause(engine)
        );
        with_db!(&self.db, pool => {
            let started = std::time::Instant::now();
            let mut tx = pool.begin_with(begin_sql(engine)).await?;
            let rows: Vec<ScheduleRow> = sqlx::query_as(&claim)
                .bind(now)
                .bind(options.batch)
                .fetch_all(&mut *tx)
                .await?;
            let claimed = rows.len() as i64;
            if engine == Engine::Postgres {
                sqlx::query(LOCK_ACCOUNTS)
                    .bind(lock_list(rows.iter().map(|r| r.0)))
                    .execute(&mut *tx)
                    .await?;
            }
            let claimed_in = started.elapsed();
            let (report, writes) = self.plan_schedule(&rows, options, now, agencies).await?;
            let planned_in = started.elapsed();
            apply_bulk!(tx, engine, writes, now);
            let written_in = started.elapsed();
            tx.commit().await?;
            tracing::debug!(
                accounts = claimed,
                claim_ms = claimed_in.as_millis() as u64,
                plan_ms = (planned_in - claimed_in).as_millis() as u64,
                write_ms = (written_in - planned_in).as_millis() as u64,
                commit_ms = (started.elapsed() - written_in).as_millis() as u64,
                "scheduling batch"
            );
            Ok((report, claimed))
        })
    }

    async fn plan_schedule(
        &self,
        rows: &[ScheduleRow],
        options: &RunOptions,
        now: DateTime<Utc>,
        agencies: &mut HashMap<i64, AgencyContext>,
    ) -> Result<(RunReport, Vec<Write>)> {
        let mut report = RunReport::default();
        let mut writes = Vec::with_capacity(rows.len() * 4);
        if rows.is_empty() {
            return Ok((report, writes));
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let read = std::time::Instant::now();
        let facts = self.load_facts(&ids, now).await?;
        let (owing, on_plan) = self.collection_state(&ids).await?;
        tracing::debug!(
            read_ms = read.elapsed().as_millis() as u64,
            "batch facts read"
        );
        for (account, step, channel) in rows {
            let account = *account;
            let Some(f) = facts.get(&account) else {
                continue;
            };
            let stored: Channel = channel.parse().map_err(crate::Error::Corrupt)?;
            // The medium is chosen at each step: a chat bound (or blocked, or opted out of)
            // since the last one changes where the next reminder goes.
            let medium = f.reminder_channel();
            let channel = medium.unwrap_or(stored);
            if !owing.contains(&account) {
                report.finished += 1;
                writes.push(Write::Schedule {
                    account,
                    channel,
                    next: None,
                });
                continue;
            }
            if on_plan.contains(&account) || medium.is_none() {
                report.paused += 1;
                writes.push(Write::Schedule {
                    account,
                    channel,
                    next: Some((*step, now + Duration::days(PAUSE_DAYS))),
                });
                continue;
            }
            let agency = self.agency_context(AgencyId(f.agency.0), agencies).await?;
            let cadence = agency.cadence_for(&f.creditor);
            let Some(current) = cadence.step(*step as u32) else {
                report.finished += 1;
                writes.push(Write::Schedule {
                    account,
                    channel,
                    next: None,
                });
                continue;
            };
            let message = Message {
                account,
                channel,
                kind: current.kind,
                dedupe_key: format!("cadence:{account}:{step}"),
                next_path: None,
                text: None,
                markup: None,
            };
            let drafted = match draft(message, f, agency, &options.links, now) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(account, "message not prepared: {e}");
                    report.errors += 1;
                    writes.push(Write::Schedule {
                        account,
                        channel,
                        next: Some((*step, now + Duration::days(1))),
                    });
                    continue;
                }
            };
            report.count(drafted.decision.verdict);
            writes.extend(drafted.writes);
            let next = match drafted.decision.verdict {
                Verdict::Allow => {
                    let following = step + 1;
                    cadence.step(following as u32).map(|s| {
                        // Steps keep their spacing from the one sent now, so an account
                        // that starts late does not get the missed steps day after day.
                        let gap = i64::from(s.day.saturating_sub(current.day))
                            .clamp(1, i64::from(domain::messaging::MAX_STEP_DAY));
                        (following, now + Duration::days(gap))
                    })
                }
                Verdict::Defer => Some((
                    *step,
                    drafted
                        .decision
                        .next_allowed_at
                        .unwrap_or(now + Duration::hours(1)),
                )),
                Verdict::Deny => Some((*step, now + Duration::hours(DENY_RECHECK_HOURS))),
            };
            writes.push(Write::Schedule {
                account,
                channel,
                next,
            });
        }
        Ok((report, writes))
    }

    /// Which of `ids` still owe money, and which have an active plan.
    async fn collection_state(&self, ids: &[i64]) -> Result<(HashSet<i64>, HashSet<i64>)> {
        let list = ids_json(ids);
        let set = in_list(self.engine());
        let (owing, on_plan): (Vec<i64>, Vec<i64>) = with_db!(&self.db, pool => {
            let owing = sqlx::query_scalar(&format!(
                "SELECT account_id FROM postings WHERE account_id IN {set}
                 GROUP BY account_id HAVING SUM(amount) > 0"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?;
            let on_plan = sqlx::query_scalar(&format!(
                "SELECT DISTINCT account_id FROM plans WHERE status = 'active' AND account_id IN {set}"
            ))
            .bind(&list)
            .fetch_all(pool)
            .await?;
            (owing, on_plan)
        });
        Ok((owing.into_iter().collect(), on_plan.into_iter().collect()))
    }

    async fn request_batch(
        &self,
        options: &RunOptions,
        now: DateTime<Utc>,
        agencies: &mut HashMap<i64, AgencyContext>,
    ) -> Result<(RunReport, i64)> {
        let engine = self.engine();
        let claim = format!(
            "SELECT r.id, r.account_id, r.purpose, r.link_path FROM message_requests r
             WHERE r.handled_at IS NULL AND (r.not_before IS NULL OR r.not_before <= $1)
             ORDER BY r.id LIMIT $2 {}",
            lock_clause(engine)
        );
        with_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_sql(engine)).await?;
            let rows: Vec<RequestRow> = sqlx::query_as(&claim)
                .bind(now)
                .bind(options.batch)
                .fetch_all(&mut *tx)
                .await?;
            let claimed = rows.len() as i64;
            if engine == Engine::Postgres {
                sqlx::query(LOCK_ACCOUNTS)
                    .bind(lock_list(rows.iter().map(|r| r.1)))
                    .execute(&mut *tx)
                    .await?;
            }
            let (report, writes) = self.plan_requests(&rows, options, now, agencies).await?;
            apply_bulk!(tx, engine, writes, now);
            tx.commit().await?;
            Ok((report, claimed))
        })
    }

    async fn plan_requests(
        &self,
        rows: &[RequestRow],
        options: &RunOptions,
        now: DateTime<Utc>,
        agencies: &mut HashMap<i64, AgencyContext>,
    ) -> Result<(RunReport, Vec<Write>)> {
        let mut report = RunReport::default();
        let mut writes = Vec::new();
        if rows.is_empty() {
            return Ok((report, writes));
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let mut facts = self.load_facts(&ids, now).await?;
        for (id, account, purpose, link_path) in rows {
            let kind = match purpose.as_str() {
                "payment_receipt" => MessageKind::PaymentReceipt,
                "instalment_failed" => MessageKind::InstalmentFailed,
                "plan_broken" => MessageKind::PlanBroken,
                "dispute_answered" => MessageKind::DisputeAnswered,
                _ => MessageKind::InstalmentDue,
            };
            let Some((f, channel)) = facts
                .get_mut(account)
                .and_then(|f| f.reminder_channel().map(|c| (f, c)))
            else {
                // No medium to send it on: nothing to decide.
                writes.push(Write::Request {
                    id: *id,
                    handled: true,
                    not_before: None,
                });
                continue;
            };
            let agency = self.agency_context(f.agency, agencies).await?;
            let message = Message {
                account: *account,
                channel,
                kind,
                dedupe_key: format!("request:{id}"),
                next_path: Some(link_path.as_str()),
                text: None,
                markup: None,
            };
            let drafted = match draft(message, f, agency, &options.links, now) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(account, request = id, "message not prepared: {e}");
                    report.errors += 1;
                    writes.push(Write::Request {
                        id: *id,
                        handled: false,
                        not_before: Some(now + Duration::days(1)),
                    });
                    continue;
                }
            };
            report.count(drafted.decision.verdict);
            if drafted.decision.allowed() {
                // Two requests of one account in a batch (a failed instalment that also
                // broke the plan): the second is judged with the first already counted.
                f.history.push(ContactEvent {
                    at: now,
                    channel,
                    direction: Direction::Outbound,
                    purpose: kind.purpose(),
                });
            }
            writes.extend(drafted.writes);
            writes.push(match drafted.decision.verdict {
                Verdict::Defer => Write::Request {
                    id: *id,
                    handled: false,
                    not_before: drafted.decision.next_allowed_at,
                },
                Verdict::Allow | Verdict::Deny => Write::Request {
                    id: *id,
                    handled: true,
                    not_before: None,
                },
            });
        }
        Ok((report, writes))
    }
}
