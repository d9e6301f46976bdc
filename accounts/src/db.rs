//! The two storage engines behind one handle. Queries are written once and expanded for each
//! engine by [`with_db!`], so each is type-checked against its own driver (no `Any` driver:
//! it cannot decode SQLite booleans or PostgreSQL dates).

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{Error, Result};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// A database engine Settle runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One file, one machine: the embedded default.
    Sqlite,
    /// A server shared by several Settle processes.
    Postgres,
}

/// A pool on one of the engines.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever engine `$db` is.
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_db;

impl Db {
    pub(crate) async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 32 MiB of page cache per connection at most (the default is 2 MiB): the import
                // inserts into indexes keyed in random order (phone, name), which miss it otherwise.
                .pragma("cache_size", "-32768")
                // Checkpoint every 64 MiB of WAL instead of every 4 MiB: the scheduling run
                // commits thousands of rows at once, and a checkpoint after each such commit
                // copied the same index pages to the file again and again.
                .pragma("wal_autocheckpoint", "16384");
            // A file on this machine does not drop connections; the ping sqlx sends before
            // handing one out would cost a round trip to the connection's thread per query.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(Error::UnsupportedUrl(redact_url(url)))
        }
    }

    pub(crate) fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    pub(crate) async fn migrate(&self) -> Result<usize> {
        let before = self.applied_versions().await?;
        with_db!(self, pool => self.migrator().run(pool).await?);
        let after = self.applied_versions().await?;
        Ok(after.len().saturating_sub(before.len()))
    }

    pub(crate) async fn migrations_current(&self) -> Result<bool> {
        let applied = self.applied_versions().await?;
        Ok(self.migrator().iter().all(|m| applied.contains(&m.version)))
    }

    async fn applied_versions(&self) -> Result<Vec<i64>> {
        let exists: bool = with_db!(self, pool => {
            let sql = match self.engine() {
                Engine::Sqlite => "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = '_sqlx_migrations'",
                Engine::Postgres => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
            };
            sqlx::query_scalar(sql).fetch_one(pool).await?
        });
        if !exists {
            return Ok(Vec::new());
        }
        Ok(with_db!(self, pool => sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version"
        ).fetch_all(pool).await?))
    }

    pub(crate) async fn close(&self) {
        with_db!(self, pool => pool.close().await)
    }
}

/// The URL with any password replaced, fit for errors and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://settle:hunter2@localhost/settle"),
            "postgres://settle:***@localhost/settle"
        );
        assert_eq!(redact_url("sqlite:settle.db"), "sqlite:settle.db");
    }
}
