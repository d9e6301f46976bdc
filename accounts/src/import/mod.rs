//! Placement import: a CSV file streamed row by row; good rows become accounts with an
//! opening ledger posting, bad rows are reported with their line number and never stop the
//! good ones. Re-importing a file changes nothing: an account reference already placed is
//! left as it is. Memory stays flat whatever the file's size: rows flow through a bounded
//! channel in chunks, parsed on a blocking thread while the previous chunk is written.

mod csv_rows;
mod write;

use std::io::Read;

use chrono::NaiveDate;
use domain::AgencyId;
use serde::Serialize;

pub use csv_rows::{OPTIONAL_COLUMNS, REQUIRED_COLUMNS};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::{Accounts, Engine};

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The row's account reference, when it has one.
    pub account_ref: Option<String>,
    /// Every problem found in the row.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.account_ref {
            Some(r) => write!(f, "line {} ({r}): {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The import run's id (postings it made name it as their actor).
    pub run_id: i64,
    /// Data rows read.
    pub rows: u64,
    /// New accounts placed.
    pub imported: u64,
    /// Rows whose account reference was already placed by an earlier import: left unchanged.
    pub unchanged: u64,
    /// Rows refused (each reported through the error callback).
    pub rejected: u64,
    /// Header columns Settle does not know and ignored.
    pub ignored_columns: Vec<String>,
}

/// What reading a placement file found, with nothing written: a dry run of the import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    /// Data rows read.
    pub rows: u64,
    /// Rows that pass every check of a single row.
    pub valid: u64,
    /// Rows refused, in file order.
    pub rejected: Vec<RowError>,
    /// Header columns Settle does not know and would ignore.
    pub ignored_columns: Vec<String>,
}

/// Reads and checks a placement file exactly as [`Accounts::import_placements`] does, and
/// writes nothing. A reference repeated within the file or already placed is found only by
/// the import itself, which needs the database. A file that cannot be read at all (no
/// header, missing required columns) is an error, as it is for the import.
pub fn check_placements<R: Read>(reader: R, today: NaiveDate) -> Result<FileCheck> {
    let mut check = FileCheck::default();
    csv_rows::read_chunks(
        reader,
        today,
        1_000,
        |c| check.ignored_columns = c.ignored.clone(),
        |chunk| {
            check.rows += chunk.rows;
            check.valid += chunk.good.len() as u64;
            check.rejected.extend(chunk.bad);
            true
        },
    )?;
    Ok(check)
}

/// Rows per chunk; each chunk is one transaction. On SQLite fewer, larger transactions
/// write each randomly ordered index page to the WAL fewer times (`write.rs` splits a
/// chunk into statements of `SQLITE_STATEMENT_ROWS`); PostgreSQL's COPY gains from larger
/// chunks too.
fn chunk_rows(engine: Engine) -> usize {
    match engine {
        Engine::Sqlite => 20_000,
        Engine::Postgres => 10_000,
    }
}

impl Accounts {
    /// Imports a placement file for `agency`. `source` names the file in the import record;
    /// every bad row is passed to `on_error` as soon as it is found. A file that cannot be
    /// read at all (no header, missing required columns) fails before any row is written.
    pub async fn import_placements<R, F>(
        &self,
        agency: AgencyId,
        source: &str,
        reader: R,
        mut on_error: F,
    ) -> Result<ImportReport>
    where
        R: Read + Send + 'static,
        F: FnMut(&RowError) + Send,
    {
        let today = self.clock.now().date_naive();
        let chunk_rows = chunk_rows(self.engine());
        let (tx, mut rx) =
            tokio::sync::mpsc::channel::<std::result::Result<csv_rows::Chunk, Error>>(4);
        let (cols_tx, cols_rx) = tokio::sync::oneshot::channel::<Vec<String>>();
        let parser = tokio::task::spawn_blocking(move || {
            let mut cols_tx = Some(cols_tx);
            let result = csv_rows::read_chunks(
                reader,
                today,
                chunk_rows,
                |c| {
                    if let Some(t) = cols_tx.take() {
                        let _ = t.send(c.ignored.clone());
                    }
                },
                |chunk| tx.blocking_send(Ok(chunk)).is_ok(),
            );
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(e));
            }
        });

        let mut report = ImportReport::default();
        let mut run_id = None;
        while let Some(msg) = rx.recv().await {
            let chunk = msg?;
            let run = match run_id {
                Some(r) => r,
                None => {
                    let r = self.start_import_run(agency, source).await?;
                    run_id = Some(r);
                    r
                }
            };
            report.rows += chunk.rows;
            for e in &chunk.bad {
                on_error(e);
            }
            report.rejected += chunk.bad.len() as u64;
            let outcome = self.write_placements(agency, run, &chunk.good).await?;
            report.imported += outcome.imported;
            report.unchanged += outcome.unchanged;
            report.rejected += outcome.duplicates.len() as u64;
            for e in &outcome.duplicates {
                on_error(e);
            }
        }
        parser
            .await
            .map_err(|e| Error::ImportFile(format!("the reader thread failed: {e}")))?;
        report.ignored_columns = cols_rx.await.unwrap_or_default();
        let run = match run_id {
            Some(r) => r,
            // A file with a header and no rows still leaves a record that it was imported.
            None => self.start_import_run(agency, source).await?,
        };
        report.run_id = run;
        self.finish_import_run(&report).await?;
        Ok(report)
    }

    async fn start_import_run(&self, agency: AgencyId, source: &str) -> Result<i64> {
        let now = self.clock.now();
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO import_runs (agency_id, source, started_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(agency.0)
            .bind(source)
            .bind(now)
            .fetch_one(pool)
            .await?
        }))
    }

    async fn finish_import_run(&self, report: &ImportReport) -> Result<()> {
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE import_runs SET finished_at = $1, imported = $2, unchanged = $3, rejected = $4
                 WHERE id = $5",
            )
            .bind(now)
            .bind(report.imported as i64)
            .bind(report.unchanged as i64)
            .bind(report.rejected as i64)
            .bind(report.run_id)
            .execute(&mut *tx)
            .await?;
            // New placements start their reminder cadence at step 0, due from placement.
            sqlx::query(
                "INSERT INTO reminder_schedule (account_id, step, due_at, channel)
                 SELECT id, 0, placed_at, 'sms' FROM accounts WHERE import_run_id = $1
                 ON CONFLICT (account_id) DO NOTHING",
            )
            .bind(report.run_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
