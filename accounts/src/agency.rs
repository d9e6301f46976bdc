//! Agencies: the tenants that place accounts with Settle.

use domain::AgencyId;

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::Accounts;

/// A collection agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// Its id.
    pub id: AgencyId,
    /// A short name used on the command line (`import --agency demo`).
    pub slug: String,
    /// The name shown to debtors as the debt collector's identity.
    pub name: String,
}

impl Accounts {
    /// Returns the agency with `slug`, creating it with `name` if it does not exist.
    pub async fn ensure_agency(&self, slug: &str, name: &str) -> Result<Agency> {
        let now = self.clock.now();
        with_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO agencies (slug, name, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (slug) DO NOTHING",
            )
            .bind(slug)
            .bind(name)
            .bind(now)
            .execute(pool)
            .await?;
        });
        self.agency_by_slug(slug)
            .await?
            .ok_or(Error::NotFound("agency"))
    }

    /// The agency with `slug`, if any.
    pub async fn agency_by_slug(&self, slug: &str) -> Result<Option<Agency>> {
        let row: Option<(i64, String, String)> = with_db!(&self.db, pool => {
            sqlx::query_as("SELECT id, slug, name FROM agencies WHERE slug = $1")
                .bind(slug)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(id, slug, name)| Agency {
            id: AgencyId(id),
            slug,
            name,
        }))
    }

    /// Every agency, oldest first.
    pub async fn agencies(&self) -> Result<Vec<Agency>> {
        let rows: Vec<(i64, String, String)> = with_db!(&self.db, pool => {
            sqlx::query_as("SELECT id, slug, name FROM agencies ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, slug, name)| Agency {
                id: AgencyId(id),
                slug,
                name,
            })
            .collect())
    }
}
