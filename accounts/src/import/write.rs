//! Writing a chunk of validated placements: one transaction, multi-row inserts of the
//! accounts and of their opening postings. A reference already placed is skipped by the
//! unique index, so concurrent or repeated imports never place a debt twice.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{Actor, AgencyId, Placement};
use sqlx::{PgPool, SqlitePool};

use super::csv_rows::Numbered;
use super::RowError;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::Accounts;

/// What writing a chunk did.
pub(crate) struct WriteOutcome {
    /// Rows placed as new accounts.
    pub imported: u64,
    /// Rows whose reference an earlier import had already placed (left as they are).
    pub unchanged: u64,
    /// Rows whose reference appeared earlier in the same file.
    pub duplicates: Vec<RowError>,
}

fn duplicate(line: u64, p: &Placement, first_line: Option<i64>) -> RowError {
    RowError {
        line,
        account_ref: Some(p.account_ref.to_string()),
        reason: match first_line {
            Some(first) => format!("duplicate account_ref (first on line {first})"),
            None => "duplicate account_ref".to_string(),
        },
    }
}

impl Accounts {
    /// Writes one chunk of valid placements for `agency` in one transaction, as import run
    /// `run`, and says what became of each row.
    pub(crate) async fn write_placements(
        &self,
        agency: AgencyId,
        run: i64,
        rows: &[Numbered],
    ) -> Result<WriteOutcome> {
        let mut outcome = WriteOutcome {
            imported: 0,
            unchanged: 0,
            duplicates: Vec::new(),
        };
        let mut first_line: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
        let mut unique: Vec<&Numbered> = Vec::with_capacity(rows.len());
        for row in rows {
            match first_line.entry(row.1.account_ref.as_str()) {
                Entry::Occupied(e) => {
                    outcome
                        .duplicates
                        .push(duplicate(row.0, &row.1, Some(*e.get() as i64)))
                }
                Entry::Vacant(v) => {
                    v.insert(row.0);
                    unique.push(row);
                }
            }
        }
        if unique.is_empty() {
            return Ok(outcome);
        }
        let now = self.clock.now();
        let actor = Actor::Import(run).to_string();
        let rows = Rows {
            agency,
            run,
            now,
            actor: &actor,
            unique: &unique,
        };
        let conflicts = match &self.db {
            Db::Sqlite(pool) => insert_values(pool, &rows).await?,
            Db::Postgres(pool) => copy_postgres(pool, &rows).await?,
        };
        outcome.imported = (unique.len() - conflicts.len()) as u64;
        let by_ref: HashMap<&str, (Option<i64>, Option<i64>)> = conflicts
            .iter()
            .map(|(r, run, line)| (r.as_str(), (*run, *line)))
            .collect();
        for (line, p) in unique {
            match by_ref.get(p.account_ref.as_str()) {
                None => {}
                Some((Some(r), first)) if *r == run => {
                    outcome.duplicates.push(duplicate(*line, p, *first))
                }
                Some(_) => outcome.unchanged += 1,
            }
        }
        outcome.duplicates.sort_by_key(|e| e.line);
        Ok(outcome)
    }
}

/// A chunk of new placements ready to write.
struct Rows<'a> {
    agency: AgencyId,
    run: i64,
    now: DateTime<Utc>,
    actor: &'a str,
    unique: &'a [&'a Numbered],
}

/// A reference that was not placed, with the import run and line that placed it before.
type Conflict = (String, Option<i64>, Option<i64>);

const ACCOUNT_COLUMNS: &str = "agency_id, account_ref, creditor, original_creditor, currency, \
    first_name, last_name, date_of_birth, phone, email, address_line1, address_line2, city, \
    state, postal_code, time_zone, language, sms_consent, time_barred, itemization_date, \
    balance_at_itemization, interest_since, fees_since, payments_since, credits_since, \
    placed_amount, import_run_id, source_line, placed_at";

/// Rows per SQLite statement: 29 bound values each stays under SQLite's 32,766 limit.
const SQLITE_STATEMENT_ROWS: usize = 1_000;

/// SQLite: the chunk in one transaction, as multi-row inserts of accounts returning the new
/// ids and of their postings. One transaction per large chunk matters more than the
/// statements: every commit writes each index page it touched to the WAL again, and the
/// phone and name indexes take rows in random order.
async fn insert_values(pool: &SqlitePool, rows: &Rows<'_>) -> Result<Vec<Conflict>> {
    let mut tx = pool.begin().await?;
    let mut inserted: Vec<(i64, String, i64)> = Vec::with_capacity(rows.unique.len());
    for part in rows.unique.chunks(SQLITE_STATEMENT_ROWS) {
        inserted.extend(insert_accounts(&mut tx, rows, part).await?);
    }
    for part in inserted.chunks(SQLITE_STATEMENT_ROWS) {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO postings (account_id, kind, amount, idempotency_key, actor, memo, posted_at) ",
        );
        qb.push_values(part, |mut b, (id, _, amount)| {
            b.push_bind(*id)
                .push_bind("placement")
                .push_bind(*amount)
                .push_bind("placement")
                .push_bind(rows.actor)
                .push_bind(PLACEMENT_MEMO)
                .push_bind(rows.now);
        });
        qb.build().execute(&mut *tx).await?;
    }
    let mut conflicts = Vec::new();
    if inserted.len() < rows.unique.len() {
        let placed: HashSet<&str> = inserted.iter().map(|r| r.1.as_str()).collect();
        let refused: Vec<&str> = rows
            .unique
            .iter()
            .map(|(_, p)| p.account_ref.as_str())
            .filter(|r| !placed.contains(r))
            .collect();
        for part in refused.chunks(SQLITE_STATEMENT_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT account_ref, import_run_id, source_line FROM accounts WHERE agency_id = ",
            );
            qb.push_bind(rows.agency.0);
            qb.push(" AND account_ref IN (");
            let mut list = qb.separated(", ");
            for r in part {
                list.push_bind(*r);
            }
            list.push_unseparated(")");
            conflicts.extend(qb.build_query_as::<Conflict>().fetch_all(&mut *tx).await?);
        }
    }
    tx.commit().await?;
    Ok(conflicts)
}

/// One multi-row insert of accounts; returns the id, reference and opening amount of each
/// account placed (a reference already placed is skipped).
async fn insert_accounts(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    rows: &Rows<'_>,
    part: &[&Numbered],
) -> Result<Vec<(i64, String, i64)>> {
    let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) "));
    qb.push_values(part, |mut b, (line, p)| {
        let it = &p.itemization;
        b.push_bind(rows.agency.0)
            .push_bind(p.account_ref.as_str())
            .push_bind(p.creditor.as_str())
            .push_bind(p.original_creditor.as_deref())
            .push_bind(it.currency().code())
            .push_bind(p.name.first())
            .push_bind(p.name.last())
            .push_bind(p.date_of_birth.date())
            .push_bind(p.phone.as_ref().map(|x| x.as_str()))
            .push_bind(p.email.as_ref().map(|x| x.as_str()))
            .push_bind(p.address.line1())
            .push_bind(p.address.line2())
            .push_bind(p.address.city())
            .push_bind(p.address.state().code())
            .push_bind(p.address.postal_code().as_str())
            .push_bind(p.time_zone.map(|tz| tz.name()))
            .push_bind(p.language.tag())
            .push_bind(p.sms_consent)
            .push_bind(p.time_barred)
            .push_bind(it.date())
            .push_bind(it.balance_at_itemization().minor())
            .push_bind(it.interest_since().minor())
            .push_bind(it.fees_since().minor())
            .push_bind(it.payments_since().minor())
            .push_bind(it.credits_since().minor())
            .push_bind(it.placement_posting_amount().minor())
            .push_bind(rows.run)
            .push_bind(*line as i64)
            .push_bind(rows.now);
    });
    qb.push(
        " ON CONFLICT (agency_id, account_ref) DO NOTHING RETURNING id, account_ref, placed_amount",
    );
    Ok(qb.build_query_as().fetch_all(&mut **tx).await?)
}

const PLACEMENT_MEMO: &str = "placed with the agency";

/// PostgreSQL: `COPY` the chunk into a temporary table, then place what is new and post its
/// opening balance in one statement. COPY is the fastest way into PostgreSQL by far.
async fn copy_postgres(pool: &PgPool, rows: &Rows<'_>) -> Result<Vec<Conflict>> {
    let mut buf = Vec::with_capacity(rows.unique.len() * 256);
    {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(&mut buf);
        let now = rows.now.to_rfc3339();
        let agency = rows.agency.0.to_string();
        let run = rows.run.to_string();
        for (line, p) in rows.unique {
            let it = &p.itemization;
            let cents = |m: domain::Money| m.minor().to_string();
            w.write_record([
                agency.as_str(),
                p.account_ref.as_str(),
                &p.creditor,
                p.original_creditor.as_deref().unwrap_or(""),
                it.currency().code(),
                p.name.first(),
                p.name.last(),
                &p.date_of_birth.date().to_string(),
                p.phone.as_ref().map_or("", |x| x.as_str()),
                p.email.as_ref().map_or("", |x| x.as_str()),
                p.address.line1(),
                p.address.line2().unwrap_or(""),
                p.address.city(),
                p.address.state().code(),
                p.address.postal_code().as_str(),
                p.time_zone.map_or("", |tz| tz.name()),
                p.language.tag(),
                if p.sms_consent { "true" } else { "false" },
                if p.time_barred { "true" } else { "false" },
                &it.date().to_string(),
                &cents(it.balance_at_itemization()),
                &cents(it.interest_since()),
                &cents(it.fees_since()),
                &cents(it.payments_since()),
                &cents(it.credits_since()),
                &cents(it.placement_posting_amount()),
                run.as_str(),
                &line.to_string(),
                &now,
            ])
            .map_err(|e| Error::ImportFile(e.to_string()))?;
        }
        w.flush().map_err(|e| Error::ImportFile(e.to_string()))?;
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS import_staging (
            agency_id BIGINT, account_ref TEXT COLLATE \"C\", creditor TEXT, original_creditor TEXT,
            currency TEXT, first_name TEXT, last_name TEXT, date_of_birth DATE, phone TEXT,
            email TEXT, address_line1 TEXT, address_line2 TEXT, city TEXT, state TEXT,
            postal_code TEXT, time_zone TEXT, language TEXT, sms_consent BOOLEAN,
            time_barred BOOLEAN, itemization_date DATE, balance_at_itemization BIGINT,
            interest_since BIGINT, fees_since BIGINT, payments_since BIGINT,
            credits_since BIGINT, placed_amount BIGINT, import_run_id BIGINT,
            source_line BIGINT, placed_at TIMESTAMPTZ
         ) ON COMMIT DELETE ROWS",
    )
    .execute(&mut *tx)
    .await?;
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY import_staging ({ACCOUNT_COLUMNS}) FROM STDIN WITH (FORMAT csv)"
        ))
        .await?;
    copy.send(buf).await?;
    copy.finish().await?;
    let placed: i64 = sqlx::query_scalar(&format!(
        "WITH placed AS (
            INSERT INTO accounts ({ACCOUNT_COLUMNS}) SELECT {ACCOUNT_COLUMNS} FROM import_staging
            ON CONFLICT (agency_id, account_ref) DO NOTHING
            RETURNING id, placed_amount
         ), posted AS (
            INSERT INTO postings (account_id, kind, amount, idempotency_key, actor, memo, posted_at)
            SELECT id, 'placement', placed_amount, 'placement', $1, $2, $3 FROM placed
            RETURNING 1
         )
         SELECT COUNT(*) FROM posted"
    ))
    .bind(rows.actor)
    .bind(PLACEMENT_MEMO)
    .bind(rows.now)
    .fetch_one(&mut *tx)
    .await?;
    let mut conflicts = Vec::new();
    if (placed as usize) < rows.unique.len() {
        // A temporary table has no statistics until analyzed; without them the planner
        // scans all of `accounts` for every chunk.
        sqlx::query("ANALYZE import_staging")
            .execute(&mut *tx)
            .await?;
        conflicts = sqlx::query_as(
            "SELECT a.account_ref, a.import_run_id, a.source_line
             FROM import_staging s
             JOIN accounts a ON a.agency_id = s.agency_id AND a.account_ref = s.account_ref
             WHERE a.import_run_id IS DISTINCT FROM s.import_run_id
                OR a.source_line IS DISTINCT FROM s.source_line",
        )
        .fetch_all(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(conflicts)
}
