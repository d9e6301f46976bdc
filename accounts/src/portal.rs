//! The debtor portal's backend: short links that identify an account without revealing
//! anything, the identity check with its lockout, and the record of notices delivered and
//! E-SIGN consents given.
//!
//! A link token is 9 random bytes written as 12 URL-safe characters (`/l/` + 12 = 15
//! characters of path). Only its SHA-256 is stored, so a database leak yields no usable link.
//! Links are found by the first 8 bytes of that digest as an integer and then matched on
//! the whole digest: an index of random 64-character keys made every scheduling batch
//! rewrite most of its pages (an 8-byte key keeps the index five times smaller).
//! A link is never proof of identity: it only names the account whose identity check follows.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::AccountId;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::Accounts;

/// How long a link works unless told otherwise.
pub const DEFAULT_LINK_TTL_DAYS: i64 = 30;
/// Wrong answers allowed before the account's identity check locks.
pub const MAX_FAILURES: i64 = 5;
/// How long the identity check stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// True for a path inside the portal (`/receipt/12`, `/plan`): never another host, so a
/// link's target cannot redirect anywhere else.
pub fn is_portal_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 64
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_'))
}

/// A link token as the debtor receives it. Secret: no `Serialize`, redacted `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// A fresh random token.
    pub(crate) fn generate() -> LinkToken {
        let mut bytes = [0u8; 9];
        rand::rng().fill_bytes(&mut bytes);
        LinkToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Reads a token from a URL path segment; anything not shaped like one is refused
    /// before touching the database.
    pub fn parse(text: &str) -> Option<LinkToken> {
        let ok = text.len() == 12
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| LinkToken(text.to_string()))
    }

    /// The token text, for building the link.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The token as stored: its lookup key and its digest.
    pub(crate) fn stored(&self) -> StoredToken {
        StoredToken::of(&self.0)
    }
}

/// What is stored of a link token: the SHA-256 as hex, and its first 8 bytes as a signed
/// integer (big-endian), the indexed key the digest is then matched under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredToken {
    /// The indexed key (not unique: the digest decides).
    pub lookup: i64,
    /// SHA-256 of the token, lowercase hex.
    pub hash: String,
}

impl StoredToken {
    /// What is stored of `secret`.
    fn of(secret: &str) -> StoredToken {
        let digest = Sha256::digest(secret.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        StoredToken {
            lookup: i64::from_be_bytes(first),
            hash: hex(&digest),
        }
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(***)")
    }
}

/// SHA-256 of a secret, as lowercase hex.
pub(crate) fn hash_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A link just made: the token goes into a message, never into logs.
#[derive(Debug, Clone)]
pub struct NewLink {
    /// The stored link's id (for revocation).
    pub id: i64,
    /// The token to put in the link (`/l/<token>`).
    pub token: LinkToken,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What a link leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    /// A working link to this account.
    Valid(AccountId),
    /// A real link past its expiry.
    Expired,
    /// A real link the agency revoked.
    Revoked,
    /// No such link (mistyped, forged).
    Unknown,
}

/// The outcome of an identity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Date of birth and ZIP code match.
    Verified,
    /// They do not; `remaining` more tries before the lock.
    Wrong {
        /// Tries left.
        remaining: i64,
    },
    /// Too many wrong answers: no check until `until`.
    Locked {
        /// When checks resume.
        until: DateTime<Utc>,
    },
}

impl Accounts {
    /// Makes a link to an account, valid for `ttl`.
    pub async fn create_link(&self, account: AccountId, ttl: Duration) -> Result<NewLink> {
        self.create_link_to(account, ttl, None).await
    }

    /// Makes a link to an account that leads to `next_path` (a portal page; anything else
    /// is ignored) after the identity check.
    pub async fn create_link_to(
        &self,
        account: AccountId,
        ttl: Duration,
        next_path: Option<&str>,
    ) -> Result<NewLink> {
        let next_path = next_path.filter(|p| is_portal_path(p));
        let now = self.clock.now();
        let token = LinkToken::generate();
        let stored = token.stored();
        let expires_at = now + ttl;
        let id: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO portal_links (account_id, token_lookup, token_hash, created_at,
                    expires_at, next_path)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(account.0)
            .bind(stored.lookup)
            .bind(stored.hash)
            .bind(now)
            .bind(expires_at)
            .bind(next_path)
            .fetch_one(pool)
            .await?
        });
        Ok(NewLink {
            id,
            token,
            expires_at,
        })
    }

    /// Where a link leads now.
    pub async fn resolve_link(&self, token: &LinkToken) -> Result<LinkStatus> {
        let now = self.clock.now();
        let stored = token.stored();
        let row: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT account_id, expires_at, revoked_at FROM portal_links
                 WHERE token_lookup = $1 AND token_hash = $2",
            )
            .bind(stored.lookup)
            .bind(&stored.hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(match row {
            None => LinkStatus::Unknown,
            Some((_, _, Some(_))) => LinkStatus::Revoked,
            Some((_, expires, None)) if expires <= now => LinkStatus::Expired,
            Some((account, _, None)) => LinkStatus::Valid(AccountId(account)),
        })
    }

    /// Where a working link leads after the identity check, when it names a page.
    pub async fn link_next_path(&self, token: &LinkToken) -> Result<Option<String>> {
        let stored = token.stored();
        let path: Option<Option<String>> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT next_path FROM portal_links WHERE token_lookup = $1 AND token_hash = $2",
            )
            .bind(stored.lookup)
            .bind(&stored.hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(path.flatten().filter(|p| is_portal_path(p)))
    }

    /// Revokes one link.
    pub async fn revoke_link(&self, link_id: i64) -> Result<()> {
        let now = self.clock.now();
        let changed = with_db!(&self.db, pool => {
            sqlx::query("UPDATE portal_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(link_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(Error::NotFound("active link"));
        }
        Ok(())
    }

    /// Checks a date of birth and ZIP code against the placement data. Five wrong answers
    /// lock the account's check for 15 minutes; a locked check refuses even right answers.
    pub async fn verify_identity(
        &self,
        account: AccountId,
        date_of_birth: NaiveDate,
        zip5: &str,
    ) -> Result<Verification> {
        let now = self.clock.now();
        let locked: Option<Option<DateTime<Utc>>> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT locked_until FROM identity_checks WHERE account_id = $1")
                .bind(account.0)
                .fetch_optional(pool)
                .await?
        });
        if let Some(until) = locked.flatten().filter(|u| *u > now) {
            self.log_identity(account, "locked", now).await?;
            return Ok(Verification::Locked { until });
        }
        let record = self.account(account).await?;
        let matches = record.date_of_birth.date() == date_of_birth
            && record.address.postal_code().zip5() == zip5.trim();
        if matches {
            with_db!(&self.db, pool => {
                let mut tx = pool.begin().await?;
                sqlx::query("DELETE FROM identity_checks WHERE account_id = $1")
                    .bind(account.0)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(LOG_IDENTITY)
                    .bind(account.0)
                    .bind("verified")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            });
            return Ok(Verification::Verified);
        }
        self.log_identity(account, "wrong", now).await?;
        // One statement counts the failure, so parallel guesses cannot share a count.
        let failures: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO identity_checks (account_id, failures, locked_until, updated_at)
                 VALUES ($1, 1, NULL, $2)
                 ON CONFLICT (account_id) DO UPDATE SET
                    failures = CASE WHEN identity_checks.locked_until IS NOT NULL
                                    THEN 1 ELSE identity_checks.failures + 1 END,
                    locked_until = NULL, updated_at = excluded.updated_at
                 RETURNING failures",
            )
            .bind(account.0)
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        if failures >= MAX_FAILURES {
            let until = now + Duration::minutes(LOCKOUT_MINUTES);
            with_db!(&self.db, pool => {
                sqlx::query("UPDATE identity_checks SET locked_until = $1 WHERE account_id = $2")
                    .bind(until)
                    .bind(account.0)
                    .execute(pool)
                    .await?;
            });
            tracing::warn!(
                account = account.0,
                "identity check locked after repeated failures"
            );
            return Ok(Verification::Locked { until });
        }
        Ok(Verification::Wrong {
            remaining: MAX_FAILURES - failures,
        })
    }
}

const LOG_IDENTITY: &str = "INSERT INTO identity_log (account_id, outcome, at) VALUES ($1, $2, $3)";

impl Accounts {
    /// Records how an identity check ended (`verified`, `wrong`, `locked`).
    async fn log_identity(
        &self,
        account: AccountId,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_db!(&self.db, pool => {
            sqlx::query(LOG_IDENTITY)
                .bind(account.0)
                .bind(outcome)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

/// A validation notice delivered through the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDelivery {
    /// When the debtor opened it after giving E-SIGN consent.
    pub delivered_at: DateTime<Utc>,
    /// The last day to dispute (12 CFR 1006.34(b)(5)), fixed at the first delivery.
    pub validation_end: NaiveDate,
}

impl Accounts {
    /// Records that the validation notice was delivered electronically after the debtor
    /// gave E-SIGN consent (12 CFR 1006.42); `consent` is the consent text they agreed to.
    /// The first delivery fixes the validation period; later ones return it unchanged.
    pub async fn record_notice_delivery(
        &self,
        account: AccountId,
        language: domain::Language,
        consent: &str,
    ) -> Result<NoticeDelivery> {
        if let Some(first) = self.notice_delivery(account).await? {
            return Ok(first);
        }
        let now = self.clock.now();
        let end = domain::compliance::validation_period_end(now.date_naive());
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO notice_deliveries (account_id, notice, language, esign_consent,
                    delivered_at, validation_end)
                 VALUES ($1, 'validation', $2, $3, $4, $5)",
            )
            .bind(account.0)
            .bind(language.tag())
            .bind(consent)
            .bind(now)
            .bind(end)
            .execute(pool)
            .await?;
        });
        Ok(NoticeDelivery {
            delivered_at: now,
            validation_end: end,
        })
    }

    /// The E-SIGN consent text the debtor agreed to with the validation notice, if any.
    pub async fn esign_consent(&self, account: AccountId) -> Result<Option<String>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT esign_consent FROM notice_deliveries
                 WHERE account_id = $1 ORDER BY delivered_at, id LIMIT 1",
            )
            .bind(account.0)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// The first electronic delivery of the account's validation notice, if any.
    pub async fn notice_delivery(&self, account: AccountId) -> Result<Option<NoticeDelivery>> {
        let row: Option<(DateTime<Utc>, NaiveDate)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT delivered_at, validation_end FROM notice_deliveries
                 WHERE account_id = $1 AND notice = 'validation' ORDER BY delivered_at, id LIMIT 1",
            )
            .bind(account.0)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(delivered_at, validation_end)| NoticeDelivery {
            delivered_at,
            validation_end,
        }))
    }
}

/// Everything the debtor's account page shows, read in one query.
#[derive(Debug, Clone)]
pub struct AccountOverview {
    /// The account as placed.
    pub record: crate::AccountRecord,
    /// The debt collector's name.
    pub collector: String,
    /// The sum of the postings.
    pub balance: domain::Money,
    /// Every posting, oldest first.
    pub postings: Vec<crate::StoredPosting>,
    /// The first electronic delivery of the validation notice.
    pub notice: Option<NoticeDelivery>,
    /// The latest plan's status (`awaiting_method`, `active`, `completed`, `broken`), if any.
    pub plan_status: Option<String>,
    /// The next scheduled instalment of an active plan: due date and amount.
    pub plan_next: Option<(NaiveDate, domain::Money)>,
}

#[derive(sqlx::FromRow)]
struct OverviewRow {
    #[sqlx(flatten)]
    account: crate::account::AccountRow,
    agency_name: String,
    notice_delivered_at: Option<DateTime<Utc>>,
    notice_validation_end: Option<NaiveDate>,
    posting_id: Option<i64>,
    posting_kind: Option<String>,
    posting_amount: Option<i64>,
    posting_key: Option<String>,
    posting_actor: Option<String>,
    posting_memo: Option<String>,
    posting_at: Option<DateTime<Utc>>,
    plan_status: Option<String>,
    plan_next_due: Option<NaiveDate>,
    plan_next_amount: Option<i64>,
}

impl OverviewRow {
    fn posting(&mut self) -> Option<crate::ledger::PostingRow> {
        Some(crate::ledger::PostingRow {
            id: self.posting_id?,
            kind: self.posting_kind.take()?,
            amount: self.posting_amount?,
            idempotency_key: self.posting_key.take()?,
            actor: self.posting_actor.take()?,
            memo: self.posting_memo.take()?,
            posted_at: self.posting_at?,
        })
    }
}

fn overview_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let columns: Vec<String> = crate::account::COLUMNS
            .split(',')
            .map(|c| format!("a.{}", c.trim()))
            .collect();
        format!(
            "SELECT {}, g.name AS agency_name, n.delivered_at AS notice_delivered_at,
                    n.validation_end AS notice_validation_end,
                    p.id AS posting_id, p.kind AS posting_kind, p.amount AS posting_amount,
                    p.idempotency_key AS posting_key, p.actor AS posting_actor,
                    p.memo AS posting_memo, p.posted_at AS posting_at,
                    (SELECT status FROM plans WHERE account_id = a.id AND status <> 'cancelled'
                     ORDER BY id DESC LIMIT 1) AS plan_status,
                    (SELECT i.due_on FROM plan_instalments i JOIN plans l ON l.id = i.plan_id
                     WHERE l.account_id = a.id AND l.status = 'active'
                       AND i.status IN ('scheduled', 'processing')
                     ORDER BY i.seq LIMIT 1) AS plan_next_due,
                    (SELECT i.amount FROM plan_instalments i JOIN plans l ON l.id = i.plan_id
                     WHERE l.account_id = a.id AND l.status = 'active'
                       AND i.status IN ('scheduled', 'processing')
                     ORDER BY i.seq LIMIT 1) AS plan_next_amount
             FROM accounts a
             JOIN agencies g ON g.id = a.agency_id
             LEFT JOIN notice_deliveries n ON n.id = (
                 SELECT MIN(id) FROM notice_deliveries
                 WHERE account_id = a.id AND notice = 'validation')
             LEFT JOIN postings p ON p.account_id = a.id
             WHERE a.id = $1
             ORDER BY p.id",
            columns.join(", ")
        )
    })
}

impl Accounts {
    /// The account page's data: account, collector, notice and postings in one query (the
    /// account's columns repeat on each posting's row; a round trip costs more than they do).
    /// The balance is the postings' sum.
    pub async fn account_overview(&self, account: AccountId) -> Result<AccountOverview> {
        let mut rows: Vec<OverviewRow> = with_db!(&self.db, pool => {
            sqlx::query_as(overview_sql()).bind(account.0).fetch_all(pool).await?
        });
        let mut postings_rows = Vec::with_capacity(rows.len());
        for row in &mut rows {
            postings_rows.extend(row.posting());
        }
        let row = rows.into_iter().next().ok_or(Error::NotFound("account"))?;
        let collector = row.agency_name;
        let notice = match (row.notice_delivered_at, row.notice_validation_end) {
            (Some(delivered_at), Some(validation_end)) => Some(NoticeDelivery {
                delivered_at,
                validation_end,
            }),
            _ => None,
        };
        let (plan_status, plan_next_due, plan_next_amount) =
            (row.plan_status, row.plan_next_due, row.plan_next_amount);
        let record: crate::AccountRecord = row.account.try_into()?;
        let currency = record.itemization.currency();
        let plan_next = match (plan_next_due, plan_next_amount) {
            (Some(due), Some(minor)) => Some((
                due,
                domain::Money::from_minor(minor, currency)
                    .map_err(|e| Error::Corrupt(e.to_string()))?,
            )),
            _ => None,
        };
        let postings = postings_rows
            .into_iter()
            .map(|p| p.into_stored(currency))
            .collect::<Result<Vec<_>>>()?;
        let mut balance = domain::Money::zero(currency);
        for p in &postings {
            balance = balance
                .checked_add(p.posting.amount())
                .map_err(|e| Error::Corrupt(e.to_string()))?;
        }
        Ok(AccountOverview {
            record,
            collector,
            balance,
            postings,
            notice,
            plan_status,
            plan_next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_inside_the_portal_are_link_targets() {
        for ok in ["/receipt/12", "/plan", "/pay"] {
            assert!(is_portal_path(ok), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "//evil.example/x",
            "receipt/1",
            "/a?b=c",
            "/a/../b.",
            "",
        ] {
            assert!(!is_portal_path(bad), "{bad}");
        }
    }
}
