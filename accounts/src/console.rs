//! The agency console's work on accounts: finding an account, notes, manual adjustments,
//! imports started from the console with their kept error reports, and the audit log that
//! records every change an agency user makes (who, what, on which account, when).

use chrono::{DateTime, Utc};
use domain::{AccountId, AgencyId, IdempotencyKey, Money, Posting, PostingKind};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::import::{ImportReport, RowError};
use crate::users::AgencyUser;
use crate::{Accounts, PostResult};

/// The longest note or adjustment reason kept.
pub const MAX_NOTE_CHARS: usize = 4000;
/// Search results shown at most.
pub const SEARCH_LIMIT: i64 = 50;
/// Bad rows of one import kept for its error report; the count of all of them is kept too.
pub const MAX_KEPT_ERRORS: usize = 10_000;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id (increasing).
    pub id: i64,
    /// The user's display name and email.
    pub user: String,
    /// What was done: `hold_set`, `note`, `adjustment`, `import`...
    pub action: String,
    /// The account it was done to, with its reference.
    pub account: Option<(AccountId, String)>,
    /// What exactly.
    pub detail: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An account found by a console search.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountHit {
    /// Its id.
    pub id: i64,
    /// The creditor's reference.
    pub account_ref: String,
    /// The consumer's first name.
    pub first_name: String,
    /// The consumer's last name.
    pub last_name: String,
    /// The consumer's phone (E.164).
    pub phone: Option<String>,
    /// The creditor.
    pub creditor: String,
}

/// An import as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRun {
    /// Its id.
    pub id: i64,
    /// The file's name.
    pub source: String,
    /// Who started it (`user:N`), when started from the console.
    pub started_by: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished; `None` while running (or if it failed).
    pub finished_at: Option<DateTime<Utc>>,
    /// Data rows read.
    pub rows_read: i64,
    /// New accounts placed.
    pub imported: i64,
    /// Rows already placed, left unchanged.
    pub unchanged: i64,
    /// Rows refused.
    pub rejected: i64,
}

/// The consumer's stance on one medium, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelConsent {
    /// `sms`, `telegram`, `email` or `call`.
    pub channel: String,
    /// Consent given.
    pub consented: bool,
    /// Opted out (STOP...).
    pub opted_out: bool,
    /// Asked that the medium not be used (12 CFR 1006.14(h)).
    pub refused: bool,
    /// Where the last change came from.
    pub source: String,
    /// When it changed last.
    pub updated_at: DateTime<Utc>,
}

pub(crate) const AUDIT_SQL: &str =
    "INSERT INTO audit_log (agency_id, user_id, action, account_id, detail, at)
                         VALUES ($1, $2, $3, $4, $5, $6)";

/// Writes an audit entry in the open transaction `$tx` (either engine), so the entry
/// commits or rolls back with the change it describes: agency id, user id, action, account
/// id (or `None::<i64>`), detail, time.
macro_rules! audit_in {
    ($tx:expr, $agency:expr, $user:expr, $action:expr, $account:expr, $detail:expr, $now:expr) => {
        sqlx::query($crate::console::AUDIT_SQL)
            .bind($agency)
            .bind($user)
            .bind($action)
            .bind($account)
            .bind($detail)
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}
pub(crate) use audit_in;

/// A required free text: trimmed, not empty, not too long.
fn required_text(text: &str, what: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid(format!("{what} is required")));
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(Error::Invalid(format!(
            "{what} is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

impl Accounts {
    /// Records in the audit log that `user` did `action` (to `account`, if any).
    pub async fn audit(
        &self,
        user: &AgencyUser,
        action: &str,
        account: Option<AccountId>,
        detail: &str,
    ) -> Result<()> {
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            sqlx::query(AUDIT_SQL)
                .bind(user.agency.0)
                .bind(user.id)
                .bind(action)
                .bind(account.map(|a| a.0))
                .bind(detail)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The agency's audit log, newest first, up to `limit` entries before entry `before`
    /// (all when `None`): the next page starts below the last id shown.
    pub async fn audit_log(
        &self,
        agency: AgencyId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        type Row = (
            i64,
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT l.id, u.name, u.email, l.action, l.account_id, a.account_ref, l.detail, l.at
                 FROM audit_log l
                 JOIN agency_users u ON u.id = l.user_id
                 LEFT JOIN accounts a ON a.id = l.account_id
                 WHERE l.agency_id = $1 AND l.id < $2
                 ORDER BY l.id DESC LIMIT $3",
            )
            .bind(agency.0)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, name, email, action, account, account_ref, detail, at)| AuditEntry {
                    id,
                    user: format!("{name} <{email}>"),
                    action,
                    account: account.zip(account_ref).map(|(a, r)| (AccountId(a), r)),
                    detail,
                    at,
                },
            )
            .collect())
    }

    /// Finds the agency's accounts by reference (exact), phone (any form that parses to
    /// the stored E.164 number) or name (the last name, or the first name then the last;
    /// not case sensitive, though SQLite folds the case of ASCII letters only), at most
    /// [`SEARCH_LIMIT`], by last name.
    pub async fn search_accounts(&self, agency: AgencyId, query: &str) -> Result<Vec<AccountHit>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let phone = domain::PhoneE164::parse(query)
            .ok()
            .map(|p| p.as_str().to_string());
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let whole = words.join(" ");
        // With two words or more, the first may be the first name and the rest the last
        // name: "maria garcia", "rosa de la cruz" (the whole query is tried as a last name too).
        let (first, last) = match words.split_first() {
            Some((f, rest)) if !rest.is_empty() => (Some(f.clone()), rest.join(" ")),
            _ => (None, whole.clone()),
        };
        let rows: Vec<AccountHit> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, account_ref, first_name, last_name, phone, creditor FROM accounts
                 WHERE agency_id = $1
                   AND (account_ref = $2
                        OR phone = $3
                        OR lower(last_name) = $7
                        OR (lower(last_name) = $4 AND lower(first_name) = $5))
                 ORDER BY lower(last_name), lower(first_name), id
                 LIMIT $6",
            )
            .bind(agency.0)
            .bind(query)
            .bind(phone)
            .bind(last)
            .bind(first)
            .bind(SEARCH_LIMIT)
            .bind(whole)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// The account `id` when `agency` holds it; [`Error::NotFound`] otherwise, so one
    /// agency's users can never open another agency's account.
    pub async fn agency_account(&self, agency: AgencyId, id: AccountId) -> Result<AccountId> {
        let found: Option<i64> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1 AND agency_id = $2")
                .bind(id.0)
                .bind(agency.0)
                .fetch_optional(pool)
                .await?
        });
        found.map(AccountId).ok_or(Error::NotFound("account"))
    }

    /// Adds a note to an account of the user's agency (it shows in the timeline), audited
    /// in the same transaction.
    pub async fn add_note(&self, user: &AgencyUser, account: AccountId, body: &str) -> Result<()> {
        let account = self.agency_account(user.agency, account).await?;
        let body = required_text(body, "a note")?;
        let now = self.clock.now();
        let by = user.actor().to_string();
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO account_notes (account_id, body, written_by, written_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(account.0)
            .bind(&body)
            .bind(&by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            crate::console::audit_in!(
                tx,
                user.agency.0,
                user.id,
                "note",
                account.0,
                &body,
                now
            );
            tx.commit().await?;
        });
        Ok(())
    }

    /// Posts a manual adjustment (positive or negative) with its reason to an account of the
    /// user's agency, audited in the same transaction. `key` makes a resubmitted form post
    /// once.
    pub async fn adjust_balance(
        &self,
        user: &AgencyUser,
        account: AccountId,
        amount: Money,
        reason: &str,
        key: &str,
    ) -> Result<PostResult> {
        let account = self.agency_account(user.agency, account).await?;
        let reason = required_text(reason, "a reason")?;
        let key = IdempotencyKey::parse(&format!("console-adjust:{key}"))?;
        let posting = Posting::new(PostingKind::Adjustment, amount, key, user.actor(), &reason)?;
        let detail = format!("{amount}: {reason}");
        self.post_audited(account, &posting, Some((user, "adjustment", &detail)))
            .await
    }

    /// Imports a placement file uploaded by `user` for the user's agency: like
    /// [`Accounts::import_placements`], and keeps the bad rows (up to [`MAX_KEPT_ERRORS`])
    /// for the run's error report, records who started it and audits it.
    pub async fn import_upload(
        &self,
        user: &AgencyUser,
        source: &str,
        file: Vec<u8>,
    ) -> Result<ImportReport> {
        let mut errors = Vec::new();
        let report = self
            .import_placements(user.agency, source, std::io::Cursor::new(file), |e| {
                if errors.len() < MAX_KEPT_ERRORS {
                    errors.push(e.clone());
                }
            })
            .await?;
        let detail = format!(
            "{source}: {} row(s), {} imported, {} unchanged, {} rejected (import run {})",
            report.rows, report.imported, report.unchanged, report.rejected, report.run_id
        );
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE import_runs SET started_by = $1, rows_read = $2 WHERE id = $3")
                .bind(user.actor().to_string())
                .bind(report.rows as i64)
                .bind(report.run_id)
                .execute(&mut *tx)
                .await?;
            for e in &errors {
                sqlx::query(
                    "INSERT INTO import_errors (run_id, line, account_ref, reason)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, line) DO NOTHING",
                )
                .bind(report.run_id)
                .bind(e.line as i64)
                .bind(e.account_ref.as_deref())
                .bind(&e.reason)
                .execute(&mut *tx)
                .await?;
            }
            crate::console::audit_in!(
                tx,
                user.agency.0,
                user.id,
                "import",
                None::<i64>,
                &detail,
                now
            );
            tx.commit().await?;
        });
        Ok(report)
    }

    /// The agency's imports, newest first (at most `limit`).
    pub async fn import_runs(&self, agency: AgencyId, limit: i64) -> Result<Vec<ImportRun>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, source, started_by, started_at, finished_at, rows_read, imported,
                        unchanged, rejected
                 FROM import_runs WHERE agency_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(agency.0)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// One import of the agency with its kept bad rows in line order; `None` when it is
    /// another agency's or does not exist.
    pub async fn import_run(
        &self,
        agency: AgencyId,
        run: i64,
    ) -> Result<Option<(ImportRun, Vec<RowError>)>> {
        let found: Option<ImportRun> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, source, started_by, started_at, finished_at, rows_read, imported,
                        unchanged, rejected
                 FROM import_runs WHERE id = $1 AND agency_id = $2",
            )
            .bind(run)
            .bind(agency.0)
            .fetch_optional(pool)
            .await?
        });
        let Some(found) = found else {
            return Ok(None);
        };
        let rows: Vec<(i64, Option<String>, String)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT line, account_ref, reason FROM import_errors WHERE run_id = $1 ORDER BY line",
            )
            .bind(run)
            .fetch_all(pool)
            .await?
        });
        let errors = rows
            .into_iter()
            .map(|(line, account_ref, reason)| RowError {
                line: line as u64,
                account_ref,
                reason,
            })
            .collect();
        Ok(Some((found, errors)))
    }

    /// The consumer's recorded stance on each medium.
    pub async fn channel_consents(&self, account: AccountId) -> Result<Vec<ChannelConsent>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT channel, consented, opted_out, refused, source, updated_at
                 FROM channel_consents WHERE account_id = $1 ORDER BY channel",
            )
            .bind(account.0)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The agency's creditors with the payment terms stored for each: the agency's default
    /// first (creditor `""`), then every creditor its accounts name or its terms mention.
    /// `None`: nothing stored, the default (or the built-in terms) apply.
    pub async fn creditor_terms(
        &self,
        agency: AgencyId,
    ) -> Result<Vec<(String, Option<domain::payment::PaymentTerms>)>> {
        let (names, stored): (Vec<String>, Vec<(String, String)>) = with_db!(&self.db, pool => {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT creditor FROM accounts WHERE agency_id = $1",
            )
            .bind(agency.0)
            .fetch_all(pool)
            .await?;
            let stored: Vec<(String, String)> = sqlx::query_as(
                "SELECT creditor, terms FROM payment_terms WHERE agency_id = $1",
            )
            .bind(agency.0)
            .fetch_all(pool)
            .await?;
            (names, stored)
        });
        let mut terms: std::collections::BTreeMap<String, Option<domain::payment::PaymentTerms>> =
            names.into_iter().map(|n| (n, None)).collect();
        terms.insert(String::new(), None);
        for (creditor, json) in stored {
            let parsed = serde_json::from_str(&json).map_err(|e| Error::Corrupt(e.to_string()))?;
            terms.insert(creditor, Some(parsed));
        }
        // BTreeMap order puts "" (the default) first.
        Ok(terms.into_iter().collect())
    }

    /// Sets a creditor's payment terms (`""`: the agency's default) and audits it.
    pub async fn set_creditor_terms(
        &self,
        user: &AgencyUser,
        creditor: &str,
        terms: &domain::payment::PaymentTerms,
    ) -> Result<()> {
        let creditor = creditor.trim();
        self.set_payment_terms(user.agency, creditor, terms).await?;
        let json = serde_json::to_string(terms).map_err(|e| Error::Corrupt(e.to_string()))?;
        let whose = if creditor.is_empty() {
            "the agency's default".to_string()
        } else {
            creditor.to_string()
        };
        self.audit(user, "payment_terms", None, &format!("{whose}: {json}"))
            .await
    }

    /// Sets the agency's contact policy (only stricter than the law) and audits it.
    pub async fn set_policy(
        &self,
        user: &AgencyUser,
        policy: domain::compliance::Policy,
    ) -> Result<domain::compliance::Policy> {
        let policy = self
            .set_agency_policy(user.agency, policy, &user.actor())
            .await?;
        let json = serde_json::to_string(&policy).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.audit(user, "contact_policy", None, &json).await?;
        Ok(policy)
    }

    /// The currency of the agency's accounts (USD when it has none yet).
    pub async fn agency_currency(&self, agency: AgencyId) -> Result<domain::Currency> {
        let code: Option<String> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT currency FROM accounts WHERE agency_id = $1 LIMIT 1")
                .bind(agency.0)
                .fetch_optional(pool)
                .await?
        });
        match code {
            Some(c) => c
                .parse()
                .map_err(|e: domain::MoneyError| Error::Corrupt(e.to_string())),
            None => Ok(domain::Currency::USD),
        }
    }

    /// The agency's users by id, for showing names where an actor is recorded as `user:N`.
    pub async fn agency_user_names(&self, agency: AgencyId) -> Result<Vec<(i64, String)>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_as("SELECT id, name FROM agency_users WHERE agency_id = $1 ORDER BY id")
                .bind(agency.0)
                .fetch_all(pool)
                .await?
        }))
    }
}

/// A cell copied from an uploaded file, made inert for spreadsheets: text that starts like
/// a formula (`=`, `+`, `-`, `@`, tab, carriage return) gets a leading apostrophe.
pub fn inert_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// Writes an import's error report as CSV: line, account reference (made inert), reason.
pub fn write_error_report<W: std::io::Write>(out: W, errors: &[RowError]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["line", "account_ref", "reason"])?;
    for e in errors {
        w.write_record([
            e.line.to_string(),
            inert_cell(e.account_ref.as_deref().unwrap_or("")),
            inert_cell(&e.reason),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// A fresh random key for a console form whose resubmission must change nothing.
pub fn form_key() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
