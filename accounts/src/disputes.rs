//! Disputes: opened by the debtor (portal, text, Telegram) or recorded by the agency, held
//! until the agency's answer reaches the debtor, with evidence and verification files.
//!
//! A dispute stays `open` (and so holds collection messages and plan charges, 12 CFR
//! 1006.38(d)(2)) from the moment it is recorded until its answer is *delivered*: read by the
//! debtor in the portal under E-SIGN consent, or mailed by the agency. Answering alone does
//! not lift the hold.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::ledger::{Actor, IdempotencyKey, Posting, PostingKind};
use domain::{AccountId, AgencyId, Money};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::messaging::Cancel;
use crate::Accounts;

/// Inserts one file row into a dispute inside the open transaction `$tx`.
macro_rules! insert_file {
    ($tx:ident, $dispute:expr, $role:expr, $file:expr, $by:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO dispute_files (dispute_id, role, file_name, content_type, size_bytes,
                 content, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($dispute)
        .bind($role)
        .bind(&$file.name)
        .bind($file.content_type)
        .bind($file.bytes.len() as i64)
        .bind(&$file.bytes)
        .bind($by)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    };
}

/// The largest file a debtor or an agent may attach (5 MiB).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// The most files a debtor may attach to one dispute.
pub const MAX_EVIDENCE_FILES: usize = 5;
/// The longest free text a dispute or an answer may carry, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Why the debtor disputes, as on CFPB Model Form B-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeReason {
    /// "This is not my debt."
    NotMyDebt,
    /// "The amount is wrong."
    AmountWrong,
    /// "Other", with the debtor's own words.
    Other,
    /// Only the request for the original creditor's name and address.
    OriginalCreditorRequest,
}

impl DisputeReason {
    /// Every reason.
    pub const ALL: [DisputeReason; 4] = [
        DisputeReason::NotMyDebt,
        DisputeReason::AmountWrong,
        DisputeReason::Other,
        DisputeReason::OriginalCreditorRequest,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeReason::NotMyDebt => "not_my_debt",
            DisputeReason::AmountWrong => "amount_wrong",
            DisputeReason::Other => "other",
            DisputeReason::OriginalCreditorRequest => "original_creditor_request",
        }
    }
}

impl std::str::FromStr for DisputeReason {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DisputeReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::Invalid(format!("`{s}` is not a dispute reason")))
    }
}

/// Where a dispute came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeOrigin {
    /// The portal's dispute form: a written dispute (comment 38-1.iii to 12 CFR 1006.38).
    Portal,
    /// A text message reply.
    Sms,
    /// The Telegram bot.
    Telegram,
    /// Recorded by an agent (a letter or a call); `written` says which.
    Agency {
        /// The dispute arrived in writing.
        written: bool,
    },
}

impl DisputeOrigin {
    fn as_str(self) -> &'static str {
        match self {
            DisputeOrigin::Portal => "portal",
            DisputeOrigin::Sms => "sms",
            DisputeOrigin::Telegram => "telegram",
            DisputeOrigin::Agency { .. } => "agency",
        }
    }

    fn written(self) -> bool {
        match self {
            DisputeOrigin::Portal => true,
            DisputeOrigin::Sms | DisputeOrigin::Telegram => false,
            DisputeOrigin::Agency { written } => written,
        }
    }
}

/// How the agency answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// Verification of the debt (documents and a message).
    Verified,
    /// The debt was corrected: an adjustment posting in the ledger.
    Corrected,
    /// The account was closed: the balance written off, any plan cancelled.
    Closed,
    /// The same dispute as an earlier one with nothing new (12 CFR 1006.38(d)(2)(ii)).
    Duplicate,
}

impl AnswerKind {
    /// Every kind.
    pub const ALL: [AnswerKind; 4] = [
        AnswerKind::Verified,
        AnswerKind::Corrected,
        AnswerKind::Closed,
        AnswerKind::Duplicate,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Verified => "verified",
            AnswerKind::Corrected => "corrected",
            AnswerKind::Closed => "closed",
            AnswerKind::Duplicate => "duplicate",
        }
    }
}

impl std::str::FromStr for AnswerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        AnswerKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::Invalid(format!("`{s}` is not an answer kind")))
    }
}

/// Why an uploaded file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    /// Nothing was uploaded.
    #[error("the file is empty")]
    Empty,
    /// Over [`MAX_FILE_BYTES`].
    #[error("the file is larger than 5 MB")]
    TooLarge,
    /// Its content is not a PDF, JPEG or PNG, whatever its name says.
    #[error("only PDF, JPEG and PNG files are accepted")]
    NotAllowed,
}

/// An uploaded file that passed the checks: a PDF, JPEG or PNG by its content (the name is
/// never trusted), within the size limit, with a harmless display name.
#[derive(Clone, PartialEq, Eq)]
pub struct UploadedFile {
    name: String,
    content_type: &'static str,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for UploadedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadedFile")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl UploadedFile {
    /// Checks an upload: size, then the type sniffed from the first bytes.
    pub fn parse(file_name: &str, bytes: Vec<u8>) -> Result<Self, FileProblem> {
        if bytes.is_empty() {
            return Err(FileProblem::Empty);
        }
        if bytes.len() > MAX_FILE_BYTES {
            return Err(FileProblem::TooLarge);
        }
        let content_type = match infer::get(&bytes).map(|t| t.mime_type()) {
            Some("application/pdf") => "application/pdf",
            Some("image/jpeg") => "image/jpeg",
            Some("image/png") => "image/png",
            _ => return Err(FileProblem::NotAllowed),
        };
        Ok(UploadedFile {
            name: display_name(file_name, content_type),
            content_type,
            bytes,
        })
    }

    /// The name shown for it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `application/pdf`, `image/jpeg` or `image/png`.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }
}

/// The last path segment without control characters, at most 80 characters, ending in the
/// extension of its real type.
fn display_name(file_name: &str, content_type: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let clean: String = stem
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>') && !is_format(*c))
        .take(80)
        .collect();
    let stem = match clean.trim() {
        "" => "document",
        s => s,
    };
    let ext = match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        _ => "png",
    };
    format!("{stem}.{ext}")
}

/// Invisible formatting characters (bidirectional overrides, zero-width marks) that could
/// make a shown file name read as something else.
fn is_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// A dispute as the debtor or the agency files it.
#[derive(Debug, Clone)]
pub struct NewDispute {
    /// The B-1 reason.
    pub reason: DisputeReason,
    /// The debtor's words (required for "other").
    pub details: String,
    /// The debtor also asks for the original creditor's name and address.
    pub wants_original_creditor: bool,
    /// Where it came from.
    pub origin: DisputeOrigin,
    /// Evidence attached to it.
    pub evidence: Vec<UploadedFile>,
}

impl NewDispute {
    /// A dispute without files, as a text reply or a bot button records it.
    pub fn from_message(reason: DisputeReason, details: &str, origin: DisputeOrigin) -> Self {
        NewDispute {
            reason,
            details: details.to_string(),
            wants_original_creditor: false,
            origin,
            evidence: Vec::new(),
        }
    }
}

/// A file attached to a dispute (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeFile {
    /// Its id.
    pub id: i64,
    /// `evidence` (from the debtor) or `verification` (from the agency).
    pub role: String,
    /// The display name.
    pub name: String,
    /// The sniffed type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// When it was attached.
    pub uploaded_at: DateTime<Utc>,
}

/// The agency's answer to a dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// How it was answered.
    pub kind: AnswerKind,
    /// The message to the debtor.
    pub message: String,
    /// The original creditor's name and address, when asked for.
    pub original_creditor: Option<String>,
    /// Who answered (`user:<id>`).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A dispute with its state and files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// Its id.
    pub id: i64,
    /// The disputed account.
    pub account: AccountId,
    /// The B-1 reason.
    pub reason: DisputeReason,
    /// The debtor's words.
    pub details: String,
    /// The original creditor's name and address were asked for.
    pub wants_original_creditor: bool,
    /// `portal`, `sms`, `telegram` or `agency`.
    pub origin: String,
    /// A written dispute: 1006.38(d)(2) applies.
    pub written: bool,
    /// When it was recorded.
    pub opened_at: DateTime<Utc>,
    /// The validation period's end when it was recorded (none: no notice delivered yet).
    pub validation_end: Option<NaiveDate>,
    /// Recorded on or before the validation period's end.
    pub within_validation: bool,
    /// The agency's response target.
    pub due_on: NaiveDate,
    /// The earlier dispute this one repeats with nothing new.
    pub duplicate_of: Option<i64>,
    /// The answer, once given.
    pub answer: Option<Answer>,
    /// When the answer reached the debtor, and how (`portal`, `mail`): the hold lifts then.
    pub delivered: Option<(DateTime<Utc>, String)>,
    /// Evidence and verification files.
    pub files: Vec<DisputeFile>,
}

impl Dispute {
    /// Collection stays held: no answer has reached the debtor yet.
    pub fn holds_collection(&self) -> bool {
        self.delivered.is_none()
    }
}

/// A row of the agency's queue: an open dispute and its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The dispute.
    pub dispute: Dispute,
    /// The account reference.
    pub account_ref: String,
    /// The debtor's name.
    pub debtor: String,
}

/// What an agent answers.
#[derive(Debug, Clone)]
pub struct AnswerInput {
    /// How.
    pub kind: AnswerKind,
    /// The message to the debtor (required).
    pub message: String,
    /// Verification documents.
    pub documents: Vec<UploadedFile>,
    /// For [`AnswerKind::Corrected`]: how much the balance goes down (a negative amount).
    pub correction: Option<Money>,
    /// The original creditor's name and address: required when the debtor asked for them
    /// (12 CFR 1006.38(c)), unless the account is closed.
    pub original_creditor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DisputeRow {
    id: i64,
    account_id: i64,
    reason: String,
    details: String,
    wants_original_creditor: bool,
    origin: String,
    written: bool,
    opened_at: DateTime<Utc>,
    validation_end: Option<NaiveDate>,
    within_validation: bool,
    due_on: Option<NaiveDate>,
    duplicate_of: Option<i64>,
    answer_kind: Option<String>,
    answer_message: Option<String>,
    original_creditor: Option<String>,
    answered_by: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    delivered_via: Option<String>,
}

const COLUMNS: &str = "d.id, d.account_id, d.reason, d.details, d.wants_original_creditor, \
    d.origin, d.written, d.opened_at, d.validation_end, d.within_validation, d.due_on, \
    d.duplicate_of, d.answer_kind, d.answer_message, d.original_creditor, d.answered_by, d.answered_at, \
    d.delivered_at, d.delivered_via";

impl DisputeRow {
    fn into_dispute(self, files: Vec<DisputeFile>) -> Result<Dispute> {
        let answer = match (self.answer_kind, self.answered_at) {
            (Some(kind), Some(at)) => Some(Answer {
                kind: kind.parse()?,
                message: self.answer_message.unwrap_or_default(),
                original_creditor: self.original_creditor,
                by: self.answered_by.unwrap_or_default(),
                at,
            }),
            _ => None,
        };
        Ok(Dispute {
            id: self.id,
            account: AccountId(self.account_id),
            reason: self.reason.parse()?,
            details: self.details,
            wants_original_creditor: self.wants_original_creditor,
            origin: self.origin,
            written: self.written,
            opened_at: self.opened_at,
            validation_end: self.validation_end,
            within_validation: self.within_validation,
            due_on: self
                .due_on
                .unwrap_or_else(|| (self.opened_at + Duration::days(30)).date_naive()),
            duplicate_of: self.duplicate_of,
            answer,
            delivered: self.delivered_at.zip(self.delivered_via),
            files,
        })
    }
}

type FileRow = (i64, i64, String, String, String, i64, DateTime<Utc>);
type FileWithContent = (i64, String, String, String, i64, DateTime<Utc>, Vec<u8>);

fn text(s: &str, what: &str) -> Result<String> {
    let s = s.trim();
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::Invalid(format!(
            "{what} is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(s.to_string())
}

impl Accounts {
    /// Records a dispute, stops collection at once (pending messages are cancelled; the
    /// compliance engine and plan charges read the open dispute), and returns its id. A
    /// dispute that repeats an earlier one of the account (same reason, no new words, no
    /// files) is linked to it.
    pub async fn open_dispute(&self, account: AccountId, new: NewDispute) -> Result<i64> {
        let details = text(&new.details, "the description")?;
        if new.reason == DisputeReason::Other && details.is_empty() {
            return Err(Error::Invalid(
                "a dispute for another reason needs a description".into(),
            ));
        }
        if new.evidence.len() > MAX_EVIDENCE_FILES {
            return Err(Error::Invalid(format!(
                "at most {MAX_EVIDENCE_FILES} files per dispute"
            )));
        }
        let now = self.clock.now();
        let record = self.account(account).await?;
        let days = self.dispute_response_days(record.agency_id).await?;
        let validation_end = self
            .notice_delivery(account)
            .await?
            .map(|n| n.validation_end);
        // The consumer's own calendar day decides; without a known time zone, the latest
        // day any US consumer could still be living (UTC-12), in their favour.
        let today = match record.time_zone {
            Some(tz) => now.with_timezone(&tz).date_naive(),
            None => (now - Duration::hours(12)).date_naive(),
        };
        let within = validation_end.is_some_and(|end| today <= end);
        let due_on = (now + Duration::days(i64::from(days))).date_naive();
        // 12 CFR 1006.38(d)(2)(ii): a dispute may be treated as a duplicate only of an
        // earlier written one, made within the validation period, whose answer was
        // delivered, and only when it brings nothing new (no words, no file).
        let earlier = self.disputes(account).await?;
        let duplicate_of = if new.evidence.is_empty() {
            earlier
                .iter()
                .find(|d| {
                    d.reason == new.reason
                        && d.wants_original_creditor == new.wants_original_creditor
                        && d.written
                        && d.within_validation
                        && d.delivered.is_some()
                        && (details.is_empty() || d.details.eq_ignore_ascii_case(&details))
                })
                .map(|d| d.id)
        } else {
            None
        };
        let id = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO disputes (account_id, reason, details, status, opened_at, origin,
                     written, wants_original_creditor, validation_end, within_validation,
                     due_on, duplicate_of)
                 VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(account.0)
            .bind(new.reason.as_str())
            .bind(&details)
            .bind(now)
            .bind(new.origin.as_str())
            .bind(new.origin.written())
            .bind(new.wants_original_creditor)
            .bind(validation_end)
            .bind(within)
            .bind(due_on)
            .bind(duplicate_of)
            .fetch_one(&mut *tx)
            .await?;
            for file in &new.evidence {
                insert_file!(tx, id, "evidence", file, Actor::Debtor.to_string(), now);
            }
            tx.commit().await?;
            id
        });
        // Collection stops until the answer is delivered: nothing already queued goes either.
        self.cancel_pending(account, Cancel::Collection).await?;
        Ok(id)
    }

    /// Records `new` unless a dispute of the account is still waiting for its answer, and
    /// returns the id of the waiting one or the new one: a second "not my debt" by text or
    /// button adds nothing while the first is unanswered.
    pub async fn dispute_unless_waiting(&self, account: AccountId, new: NewDispute) -> Result<i64> {
        let waiting = self
            .disputes(account)
            .await?
            .into_iter()
            .rev()
            .find(|d| d.answer.is_none());
        match waiting {
            Some(d) => Ok(d.id),
            None => self.open_dispute(account, new).await,
        }
    }

    /// Adds evidence to a dispute of the account that is still waiting for its answer (at
    /// most [`MAX_EVIDENCE_FILES`] in all). New evidence is new information: the dispute is
    /// no longer a duplicate.
    pub async fn add_evidence(
        &self,
        account: AccountId,
        dispute: i64,
        file: &UploadedFile,
    ) -> Result<()> {
        self.dispute(account, dispute).await?;
        let now = self.clock.now();
        let added = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            // One statement checks and inserts, so an answer or another upload racing this
            // one cannot slip past the checks.
            let added = sqlx::query(
                "INSERT INTO dispute_files (dispute_id, role, file_name, content_type, size_bytes,
                     content, uploaded_by, uploaded_at)
                 SELECT d.id, 'evidence', $2, $3, $4, $5, $6, $7 FROM disputes d
                 WHERE d.id = $1 AND d.answered_at IS NULL
                   AND (SELECT COUNT(*) FROM dispute_files f
                        WHERE f.dispute_id = d.id AND f.role = 'evidence') < $8",
            )
            .bind(dispute)
            .bind(&file.name)
            .bind(file.content_type)
            .bind(file.bytes.len() as i64)
            .bind(&file.bytes)
            .bind(Actor::Debtor.to_string())
            .bind(now)
            .bind(MAX_EVIDENCE_FILES as i64)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added > 0 {
                sqlx::query("UPDATE disputes SET duplicate_of = NULL WHERE id = $1")
                    .bind(dispute)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            added
        });
        if added == 0 {
            return Err(Error::Invalid(format!(
                "this dispute was already answered or has {MAX_EVIDENCE_FILES} files; open a new one"
            )));
        }
        Ok(())
    }

    /// The account's disputes, oldest first, with their files.
    pub async fn disputes(&self, account: AccountId) -> Result<Vec<Dispute>> {
        let sql = format!("SELECT {COLUMNS} FROM disputes d WHERE d.account_id = $1 ORDER BY d.id");
        let rows: Vec<DisputeRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(account.0).fetch_all(pool).await?
        });
        self.with_files(rows).await
    }

    /// One dispute of the account; another account's dispute is "not found", so an id
    /// reveals nothing.
    pub async fn dispute(&self, account: AccountId, id: i64) -> Result<Dispute> {
        let sql = format!("SELECT {COLUMNS} FROM disputes d WHERE d.id = $1 AND d.account_id = $2");
        let row: Option<DisputeRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(id).bind(account.0).fetch_optional(pool).await?
        });
        let row = row.ok_or(Error::NotFound("dispute"))?;
        Ok(self.with_files(vec![row]).await?.remove(0))
    }

    /// A file of a dispute of the account, with its content; anything else is "not found".
    pub async fn dispute_file(
        &self,
        account: AccountId,
        dispute: i64,
        file: i64,
    ) -> Result<(DisputeFile, Vec<u8>)> {
        let row: Option<FileWithContent> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT f.id, f.role, f.file_name, f.content_type, f.size_bytes, f.uploaded_at,
                        f.content
                 FROM dispute_files f JOIN disputes d ON d.id = f.dispute_id
                 WHERE f.id = $1 AND f.dispute_id = $2 AND d.account_id = $3",
            )
            .bind(file)
            .bind(dispute)
            .bind(account.0)
            .fetch_optional(pool)
            .await?
        });
        let (id, role, name, content_type, size, uploaded_at, bytes) =
            row.ok_or(Error::NotFound("file"))?;
        Ok((
            DisputeFile {
                id,
                role,
                name,
                content_type,
                size,
                uploaded_at,
            },
            bytes,
        ))
    }

    /// The agency's open disputes (including answered ones not yet delivered), oldest first.
    pub async fn dispute_queue(&self, agency: AgencyId) -> Result<Vec<QueueEntry>> {
        let sql = format!(
            "SELECT {COLUMNS}, a.account_ref, a.first_name || ' ' || a.last_name AS debtor
             FROM disputes d JOIN accounts a ON a.id = d.account_id
             WHERE a.agency_id = $1 AND d.status = 'open' ORDER BY d.opened_at, d.id"
        );
        let rows: Vec<(DisputeRow, String, String)> = with_db!(&self.db, pool => {
            use sqlx::Row;
            sqlx::query(&sql)
                .bind(agency.0)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| {
                    Ok((
                        sqlx::FromRow::from_row(&r)?,
                        r.try_get("account_ref")?,
                        r.try_get("debtor")?,
                    ))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let (rows, names): (Vec<DisputeRow>, Vec<(String, String)>) =
            rows.into_iter().map(|(d, r, n)| (d, (r, n))).unzip();
        Ok(self
            .with_files(rows)
            .await?
            .into_iter()
            .zip(names)
            .map(|(dispute, (account_ref, debtor))| QueueEntry {
                dispute,
                account_ref,
                debtor,
            })
            .collect())
    }

    /// Answers a dispute of the agency: records the answer and its documents, posts the
    /// correction or the closing write-off, and asks the messaging worker to tell the debtor
    /// (through the compliance engine) that an answer is waiting in the portal. The hold
    /// stays until the answer is delivered ([`Accounts::deliver_dispute_answer`]).
    pub async fn answer_dispute(
        &self,
        agency: AgencyId,
        dispute: i64,
        input: AnswerInput,
        by: &Actor,
    ) -> Result<()> {
        let account = self.dispute_account(agency, dispute).await?;
        let current = self.dispute(account, dispute).await?;
        if current.answer.is_some() {
            return Err(Error::Invalid("this dispute was already answered".into()));
        }
        let message = text(&input.message, "the answer")?;
        if message.is_empty() {
            return Err(Error::Invalid(
                "an answer needs a message to the debtor".into(),
            ));
        }
        let original_creditor = text(
            input.original_creditor.as_deref().unwrap_or_default(),
            "the original creditor",
        )?;
        let wants_creditor = current.wants_original_creditor
            || current.reason == DisputeReason::OriginalCreditorRequest;
        if wants_creditor && original_creditor.is_empty() && input.kind != AnswerKind::Closed {
            // 12 CFR 1006.38(c): the request is answered with the name and address.
            return Err(Error::Invalid(
                "the debtor asked for the original creditor: give its name and address".into(),
            ));
        }
        if input.correction.is_some() && input.kind != AnswerKind::Corrected {
            return Err(Error::Invalid(
                "a correction amount goes only with a corrected debt".into(),
            ));
        }
        let key = |what: &str| IdempotencyKey::parse(&format!("dispute:{dispute}:{what}"));
        let correction = match input.kind {
            AnswerKind::Verified if input.documents.is_empty() => {
                return Err(Error::Invalid(
                    "a verification needs at least one document".into(),
                ))
            }
            AnswerKind::Duplicate if current.duplicate_of.is_none() => return Err(Error::Invalid(
                "only a dispute linked to an earlier answered one can be answered as a duplicate"
                    .into(),
            )),
            AnswerKind::Corrected => {
                let amount = input.correction.ok_or_else(|| {
                    Error::Invalid("a correction needs the amount it lowers the debt by".into())
                })?;
                if !amount.is_negative() {
                    return Err(Error::Invalid(
                        "a correction in answer to a dispute lowers the balance: give a negative amount"
                            .into(),
                    ));
                }
                Some(Posting::new(
                    PostingKind::Adjustment,
                    amount,
                    key("correction")?,
                    by.clone(),
                    format!("dispute {dispute} answered: debt corrected"),
                )?)
            }
            AnswerKind::Verified | AnswerKind::Duplicate | AnswerKind::Closed => None,
        };
        let currency = self.balance(account).await?.currency();
        let now = self.clock.now();
        // One transaction: the answer is claimed first (a second agent answering at the same
        // time changes nothing), then the ledger, the plan, the files and the notice.
        with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE disputes SET answer_kind = $1, answer_message = $2, answered_by = $3,
                     answered_at = $4, original_creditor = $5
                 WHERE id = $6 AND answered_at IS NULL",
            )
            .bind(input.kind.as_str())
            .bind(&message)
            .bind(by.to_string())
            .bind(now)
            .bind(Some(&original_creditor).filter(|c| !c.is_empty()))
            .bind(dispute)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(Error::Invalid("this dispute was already answered".into()));
            }
            let closing = if input.kind == AnswerKind::Closed {
                let balance: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings
                     WHERE account_id = $1",
                )
                .bind(account.0)
                .fetch_one(&mut *tx)
                .await?;
                (balance != 0)
                    .then(|| {
                        Posting::new(
                            PostingKind::Adjustment,
                            Money::from_minor(-balance, currency)
                                .map_err(domain::ledger::LedgerError::Money)?,
                            key("closed")?,
                            by.clone(),
                            format!("dispute {dispute} answered: account closed"),
                        )
                    })
                    .transpose()?
            } else {
                None
            };
            for posting in correction.iter().chain(closing.iter()) {
                sqlx::query(
                    "INSERT INTO postings (account_id, kind, amount, idempotency_key, actor, memo,
                         posted_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(account.0)
                .bind(posting.kind().as_str())
                .bind(posting.amount().minor())
                .bind(posting.key().as_str())
                .bind(posting.actor().to_string())
                .bind(posting.memo())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if input.kind == AnswerKind::Closed {
                sqlx::query(
                    "UPDATE plan_instalments SET status = 'cancelled'
                     WHERE status = 'scheduled' AND plan_id IN (SELECT id FROM plans
                         WHERE account_id = $1 AND status IN ('awaiting_method', 'active'))",
                )
                .bind(account.0)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE plans SET status = 'cancelled', updated_at = $1
                     WHERE account_id = $2 AND status IN ('awaiting_method', 'active')",
                )
                .bind(now)
                .bind(account.0)
                .execute(&mut *tx)
                .await?;
            }
            for file in &input.documents {
                insert_file!(tx, dispute, "verification", file, by.to_string(), now);
            }
            sqlx::query(
                "INSERT INTO message_requests (account_id, purpose, subject, link_path, created_at)
                 VALUES ($1, 'dispute_answered', $2, $3, $4)
                 ON CONFLICT (purpose, subject) DO NOTHING",
            )
            .bind(account.0)
            .bind(format!("dispute:{dispute}"))
            .bind(format!("/disputes/{dispute}"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records that the answer reached the debtor, which lifts the dispute's hold: `Portal`
    /// when they opened it under E-SIGN consent (the consent text is kept), `Mail` when the
    /// agency mailed it. Returns false when there was nothing to deliver (no answer yet, or
    /// delivered before).
    pub async fn deliver_dispute_answer(
        &self,
        account: AccountId,
        dispute: i64,
        delivery: Delivery<'_>,
    ) -> Result<bool> {
        let now = self.clock.now();
        let (via, consent) = match delivery {
            Delivery::Portal { consent } => ("portal", Some(consent)),
            Delivery::Mail => ("mail", None),
        };
        let changed = with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE disputes SET delivered_at = $1, delivered_via = $2, delivery_consent = $3,
                     status = CASE WHEN answer_kind = 'closed' THEN 'closed' ELSE 'answered' END,
                     closed_at = $1
                 WHERE id = $4 AND account_id = $5 AND answered_at IS NOT NULL
                   AND delivered_at IS NULL",
            )
            .bind(now)
            .bind(via)
            .bind(consent)
            .bind(dispute)
            .bind(account.0)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// The account a dispute of the agency is about; another agency's dispute is "not found".
    pub async fn dispute_account(&self, agency: AgencyId, dispute: i64) -> Result<AccountId> {
        let account: Option<i64> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT d.account_id FROM disputes d JOIN accounts a ON a.id = d.account_id
                 WHERE d.id = $1 AND a.agency_id = $2",
            )
            .bind(dispute)
            .bind(agency.0)
            .fetch_optional(pool)
            .await?
        });
        Ok(AccountId(account.ok_or(Error::NotFound("dispute"))?))
    }

    /// The agency's response target in days.
    pub async fn dispute_response_days(&self, agency: AgencyId) -> Result<i32> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT dispute_response_days FROM agencies WHERE id = $1")
                .bind(agency.0)
                .fetch_optional(pool)
                .await?
                .ok_or(Error::NotFound("agency"))?
        }))
    }

    /// Sets the agency's response target (1 to 90 days).
    pub async fn set_dispute_response_days(&self, agency: AgencyId, days: i32) -> Result<()> {
        if !(1..=90).contains(&days) {
            return Err(Error::Invalid(
                "the response target must be between 1 and 90 days".into(),
            ));
        }
        with_db!(&self.db, pool => {
            sqlx::query("UPDATE agencies SET dispute_response_days = $1 WHERE id = $2")
                .bind(days)
                .bind(agency.0)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn with_files(&self, rows: Vec<DisputeRow>) -> Result<Vec<Dispute>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
        let sql = format!(
            "SELECT id, dispute_id, role, file_name, content_type, size_bytes, uploaded_at
             FROM dispute_files WHERE dispute_id IN ({}) ORDER BY id",
            ids.join(",")
        );
        let files: Vec<FileRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|row| {
                let mine = files
                    .iter()
                    .filter(|f| f.1 == row.id)
                    .map(|f| DisputeFile {
                        id: f.0,
                        role: f.2.clone(),
                        name: f.3.clone(),
                        content_type: f.4.clone(),
                        size: f.5,
                        uploaded_at: f.6,
                    })
                    .collect();
                row.into_dispute(mine)
            })
            .collect()
    }
}

/// How a dispute's answer reached the debtor.
#[derive(Debug, Clone, Copy)]
pub enum Delivery<'a> {
    /// Opened in the portal after agreeing to electronic delivery with this text.
    Portal {
        /// The E-SIGN consent the debtor gave.
        consent: &'a str,
    },
    /// Mailed by the agency.
    Mail,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    #[test]
    fn files_are_judged_by_content_not_name() {
        let f = UploadedFile::parse("C:\\photos\\bank statement.exe", PNG.to_vec()).unwrap();
        assert_eq!(f.content_type(), "image/png");
        assert_eq!(f.name(), "bank statement.png");
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
        assert_eq!(
            UploadedFile::parse("statement.pdf", exe),
            Err(FileProblem::NotAllowed)
        );
        assert_eq!(
            UploadedFile::parse("letter.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec())
                .unwrap()
                .content_type(),
            "application/pdf"
        );
        assert_eq!(
            UploadedFile::parse("a.png", vec![]),
            Err(FileProblem::Empty)
        );
        let mut big = PNG.to_vec();
        big.resize(MAX_FILE_BYTES + 1, 0);
        assert_eq!(
            UploadedFile::parse("a.png", big),
            Err(FileProblem::TooLarge)
        );
    }

    #[test]
    fn display_names_are_harmless() {
        assert_eq!(display_name("../../etc/passwd", "image/png"), "passwd.png");
        assert_eq!(display_name("", "application/pdf"), "document.pdf");
        assert_eq!(display_name("<b>\"x\".jpeg", "image/jpeg"), "bx.jpg");
        assert_eq!(
            display_name("inv\u{202E}fdp.exe", "image/png"),
            "invfdp.png"
        );
    }

    #[test]
    fn reasons_and_answers_round_trip() {
        for r in DisputeReason::ALL {
            assert_eq!(r.as_str().parse::<DisputeReason>().unwrap(), r);
        }
        for k in AnswerKind::ALL {
            assert_eq!(k.as_str().parse::<AnswerKind>().unwrap(), k);
        }
        assert!("maybe".parse::<DisputeReason>().is_err());
    }
}
