//! The stored ledger: append-only postings, balances derived from them, idempotency keys
//! enforced by a unique index so that concurrent retries on several processes post once.

use chrono::{DateTime, Utc};
use domain::ledger::LedgerError;
use domain::{AccountId, Actor, Currency, IdempotencyKey, Money, Posting, PostingKind};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::Accounts;

/// What posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostResult {
    /// Appended as posting `id`.
    Posted(i64),
    /// The key had been used for the same change as posting `id`; nothing changed.
    Duplicate(i64),
}

/// A posting as stored, with its id and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPosting {
    /// Its id (increasing in the order postings were made).
    pub id: i64,
    /// The posting.
    pub posting: Posting,
    /// When it was recorded.
    pub posted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PostingRow {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) amount: i64,
    pub(crate) idempotency_key: String,
    pub(crate) actor: String,
    pub(crate) memo: String,
    pub(crate) posted_at: DateTime<Utc>,
}

impl PostingRow {
    /// The stored posting, checked again as a domain posting.
    pub(crate) fn into_stored(self, currency: Currency) -> Result<StoredPosting> {
        let kind: PostingKind = self.kind.parse()?;
        let amount = Money::from_minor(self.amount, currency).map_err(LedgerError::from)?;
        let posting = Posting::new(
            kind,
            amount,
            IdempotencyKey::parse(&self.idempotency_key)?,
            self.actor.parse::<Actor>()?,
            self.memo,
        )?;
        Ok(StoredPosting {
            id: self.id,
            posting,
            posted_at: self.posted_at,
        })
    }
}

impl Accounts {
    pub(crate) async fn account_currency(&self, account: AccountId) -> Result<Currency> {
        let code: Option<String> = with_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT currency FROM accounts WHERE id = $1")
                .bind(account.0)
                .fetch_optional(pool)
                .await?
        });
        code.ok_or(Error::NotFound("account"))?
            .parse()
            .map_err(|e: domain::MoneyError| Error::Corrupt(e.to_string()))
    }

    /// Appends a posting to an account's ledger unless its idempotency key was used before.
    /// A key reused for a different change is refused with [`LedgerError::KeyConflict`].
    pub async fn post(&self, account: AccountId, posting: &Posting) -> Result<PostResult> {
        self.post_audited(account, posting, None).await
    }

    /// [`Accounts::post`], writing `audit` (who, action, detail) in the same transaction
    /// when the posting is new: an agency user's posting is never left unaudited.
    pub(crate) async fn post_audited(
        &self,
        account: AccountId,
        posting: &Posting,
        audit: Option<(&crate::users::AgencyUser, &str, &str)>,
    ) -> Result<PostResult> {
        let currency = self.account_currency(account).await?;
        if posting.amount().currency() != currency {
            return Err(LedgerError::Money(domain::MoneyError::CurrencyMismatch(
                currency,
                posting.amount().currency(),
            ))
            .into());
        }
        let now = self.clock.now();
        let inserted: Option<i64> = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO postings (account_id, kind, amount, idempotency_key, actor, memo, posted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (account_id, idempotency_key) DO NOTHING
                 RETURNING id",
            )
            .bind(account.0)
            .bind(posting.kind().as_str())
            .bind(posting.amount().minor())
            .bind(posting.key().as_str())
            .bind(posting.actor().to_string())
            .bind(posting.memo())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let (Some(posted), Some((user, action, detail))) = (id, audit) {
                crate::console::audit_in!(
                    tx,
                    user.agency.0,
                    user.id,
                    action,
                    account.0,
                    format!("{detail} (posting {posted})"),
                    now
                );
            }
            tx.commit().await?;
            id
        });
        if let Some(id) = inserted {
            return Ok(PostResult::Posted(id));
        }
        let (id, kind, amount): (i64, String, i64) = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, kind, amount FROM postings WHERE account_id = $1 AND idempotency_key = $2",
            )
            .bind(account.0)
            .bind(posting.key().as_str())
            .fetch_one(pool)
            .await?
        });
        if kind == posting.kind().as_str() && amount == posting.amount().minor() {
            Ok(PostResult::Duplicate(id))
        } else {
            Err(LedgerError::KeyConflict(posting.key().as_str().to_string()).into())
        }
    }

    /// What the debtor owes now: the sum of the account's postings.
    pub async fn balance(&self, account: AccountId) -> Result<Money> {
        let currency = self.account_currency(account).await?;
        let minor: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings WHERE account_id = $1",
            )
            .bind(account.0)
            .fetch_one(pool)
            .await?
        });
        Money::from_minor(minor, currency).map_err(|e| Error::Corrupt(e.to_string()))
    }

    /// Every posting of an account, oldest first.
    pub async fn postings(&self, account: AccountId) -> Result<Vec<StoredPosting>> {
        let currency = self.account_currency(account).await?;
        self.postings_in(account, currency).await
    }

    /// Every posting of an account whose currency the caller already read, oldest first.
    pub(crate) async fn postings_in(
        &self,
        account: AccountId,
        currency: Currency,
    ) -> Result<Vec<StoredPosting>> {
        let rows: Vec<PostingRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, kind, amount, idempotency_key, actor, memo, posted_at
                 FROM postings WHERE account_id = $1 ORDER BY id",
            )
            .bind(account.0)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(|r| r.into_stored(currency)).collect()
    }
}
