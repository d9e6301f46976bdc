//! The one accounts backend shared by the portal, the bots and the agency console:
//! storage on SQLite (embedded default) or PostgreSQL, the ledger, placement import and
//! demo data. Callers hold an [`Accounts`] handle; every method is one unit of work.

mod account;
mod agency;
pub mod api;
pub mod clock;
mod compliance;
pub mod console;
mod db;
pub mod demo;
pub mod disputes;
mod error;
pub mod import;
mod ledger;
pub mod messaging;
pub mod metrics;
pub mod payments;
pub mod portal;
pub mod reports;
pub mod telegram;
pub mod timeline;
pub mod totp;
pub mod users;

use std::sync::Arc;

pub use account::AccountRecord;
pub use agency::Agency;
pub use clock::{Clock, FixedClock, OffsetClock, SystemClock};
pub use compliance::{ConsentChange, ContactPreferences, Hold, HoldKind, LoggedDecision};
pub use db::{redact_url, Engine};
pub use error::{Error, Result};
pub use ledger::{PostResult, StoredPosting};

/// A borrowed pool of whichever engine the backend runs on.
#[derive(Debug, Clone, Copy)]
pub enum PoolRef<'a> {
    /// The embedded SQLite pool.
    Sqlite(&'a sqlx::SqlitePool),
    /// The PostgreSQL pool.
    Postgres(&'a sqlx::PgPool),
}

/// The accounts backend: a database pool and the clock every timestamp comes from.
#[derive(Clone)]
pub struct Accounts {
    db: db::Db,
    clock: Arc<dyn Clock>,
    /// Held through a SQLite scheduling run: one at a time in a process (each keeps a
    /// connection and reads on others, and a second would only invalidate the first's
    /// read-ahead while it waits for the write lock).
    sqlite_run: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("engine", &self.engine())
            .finish()
    }
}

impl Accounts {
    /// Connects to the database named by `url` (`sqlite:PATH` creates the file;
    /// `postgres://...` needs an existing database) without migrating it.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Accounts {
            db: db::Db::connect(url).await?,
            clock,
            sqlite_run: Arc::default(),
        })
    }

    /// Connects and brings the schema up to date: what `serve` does on start.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let accounts = Self::connect(url, clock).await?;
        accounts.migrate().await?;
        Ok(accounts)
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        self.db.migrate().await
    }

    /// True when every migration this build knows is applied.
    pub async fn migrations_current(&self) -> Result<bool> {
        self.db.migrations_current().await
    }

    /// Which database engine this backend runs on.
    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// The underlying pool, for components that keep their own tables on the same database
    /// (the web session store).
    pub fn pool(&self) -> PoolRef<'_> {
        match &self.db {
            db::Db::Sqlite(p) => PoolRef::Sqlite(p),
            db::Db::Postgres(p) => PoolRef::Postgres(p),
        }
    }

    /// The backend's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Closes the pool, waiting for connections to return.
    pub async fn close(&self) {
        self.db.close().await
    }
}
