//! Agency users: who may sign in to the console, with which role. Passwords are hashed with
//! Argon2id (the `argon2` crate's defaults, RFC 9106's second recommended parameters); five
//! wrong passwords lock the user's sign-in for 15 minutes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use domain::{Actor, AgencyId};
use rand::RngCore;

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::Accounts;

/// Wrong passwords in a row before sign-in locks.
pub const MAX_FAILURES: i32 = 5;
/// How long a locked sign-in stays locked.
pub const LOCK_MINUTES: i64 = 15;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// What an agency user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including managing users.
    Admin,
    /// Work accounts: answer disputes, set and lift holds.
    Agent,
    /// Read only.
    ReadOnly,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::ReadOnly => "read_only",
        }
    }

    /// May change accounts (answer, set holds...).
    pub fn can_act(self) -> bool {
        matches!(self, Role::Admin | Role::Agent)
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            "read_only" => Ok(Role::ReadOnly),
            _ => Err(Error::Invalid(format!(
                "`{s}` is not a role (admin, agent, read_only)"
            ))),
        }
    }
}

/// A signed-in (or listed) agency user. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyUser {
    /// Its id.
    pub id: i64,
    /// The agency it works for.
    pub agency: AgencyId,
    /// Sign-in name.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl AgencyUser {
    /// The actor recorded on what this user changes.
    pub fn actor(&self) -> Actor {
        Actor::AgencyUser(self.id)
    }
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Email and password match (and the code, for a user with two-step sign-in).
    Ok(AgencyUser),
    /// The password is right; the user signs in with a code as well: send it to
    /// [`Accounts::sign_in_code`] with this user id.
    NeedsCode(i64),
    /// No such user, a wrong password, or a disabled user: the same answer for all three.
    Wrong,
    /// Too many wrong passwords: locked until then.
    Locked(DateTime<Utc>),
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    agency_id: i64,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    locked_until: Option<DateTime<Utc>>,
    disabled_at: Option<DateTime<Utc>>,
    two_step: bool,
}

impl UserRow {
    fn user(&self) -> Result<AgencyUser> {
        Ok(AgencyUser {
            id: self.id,
            agency: AgencyId(self.agency_id),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.parse()?,
        })
    }
}

const COLUMNS: &str = "id, agency_id, email, name, role, password_hash, locked_until, disabled_at,
                       totp_secret IS NOT NULL AS two_step";

fn hash(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Invalid(format!("hashing the password: {e}")))
}

fn matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks a password off the async threads (Argon2 is meant to be slow); `None` checks
/// against the decoy, for an unknown email.
async fn verify(password: &str, stored: Option<String>) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => matches(&password, &stored),
        None => matches(&password, decoy()),
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the email is unknown, so that answer takes as long as a
/// wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password, never matches").unwrap_or_default())
}

impl Accounts {
    /// Adds a user to an agency; the email is the sign-in name (unique, case-insensitive).
    pub async fn create_user(
        &self,
        agency: AgencyId,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<AgencyUser> {
        let email = domain::Email::parse(email.trim())
            .map_err(|e| Error::Invalid(e.to_string()))?
            .as_str()
            .to_ascii_lowercase();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::Invalid(
                "a user needs a name of 1 to 100 characters".into(),
            ));
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(Error::Invalid(format!(
                "a password needs at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let owned = password.to_string();
        let hashed = tokio::task::spawn_blocking(move || hash(&owned))
            .await
            .map_err(|e| Error::Invalid(format!("hashing the password: {e}")))??;
        let now = self.clock.now();
        let inserted: Result<i64, sqlx::Error> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO agency_users (agency_id, email, name, role, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(agency.0)
            .bind(&email)
            .bind(name)
            .bind(role.as_str())
            .bind(&hashed)
            .bind(now)
            .fetch_one(pool)
            .await
        });
        let id = match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::Invalid(format!("a user {email} already exists")))
            }
            other => other?,
        };
        Ok(AgencyUser {
            id,
            agency,
            email,
            name: name.to_string(),
            role,
        })
    }

    /// Checks an email and password. Five wrong passwords in a row lock the user for 15
    /// minutes; a right one resets the count. Each try is counted in the database before the
    /// password is checked, so guesses sent in parallel (to one process or several) cannot
    /// share one count.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn> {
        let email = email.trim().to_ascii_lowercase();
        let sql = format!("SELECT {COLUMNS} FROM agency_users WHERE email = $1");
        let row: Option<UserRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(&email).fetch_optional(pool).await?
        });
        let now = self.clock.now();
        let Some(row) = row else {
            verify(password, None).await;
            return Ok(SignIn::Wrong);
        };
        let Some(tries) = self.count_try(row.id, now).await? else {
            let until = row.locked_until.unwrap_or(now);
            return Ok(SignIn::Locked(until.max(now)));
        };
        let right = tries <= MAX_FAILURES
            && verify(password, Some(row.password_hash.clone())).await
            && row.disabled_at.is_none();
        if right && row.two_step {
            // The count is cleared only by the code: a known password gives no more
            // guesses at the code than at the password.
            return Ok(SignIn::NeedsCode(row.id));
        }
        if right {
            with_db!(&self.db, pool => {
                sqlx::query(
                    "UPDATE agency_users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                )
                .bind(row.id)
                .execute(pool)
                .await?;
            });
            return Ok(SignIn::Ok(row.user()?));
        }
        self.wrong_try(row.id, tries, now).await
    }

    /// Counts a sign-in try of user `id` (a password or a code) before it is checked;
    /// `None` while the user is locked. A lock that has run out starts the count again.
    pub(crate) async fn count_try(&self, id: i64, now: DateTime<Utc>) -> Result<Option<i32>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "UPDATE agency_users SET
                     failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins + 1
                                          ELSE 1 END,
                     locked_until = NULL
                 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)
                 RETURNING failed_logins",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Until when user `id` is locked, if it is.
    pub(crate) async fn locked_until(&self, id: i64) -> Result<Option<DateTime<Utc>>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar::<_, Option<DateTime<Utc>>>(
                "SELECT locked_until FROM agency_users WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
            .flatten()
        }))
    }

    /// The answer to wrong try number `tries`: wrong, or locked from the fifth.
    pub(crate) async fn wrong_try(
        &self,
        id: i64,
        tries: i32,
        now: DateTime<Utc>,
    ) -> Result<SignIn> {
        if tries < MAX_FAILURES {
            return Ok(SignIn::Wrong);
        }
        let until = now + Duration::minutes(LOCK_MINUTES);
        with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE agency_users SET failed_logins = 0, locked_until = $1
                 WHERE id = $2 AND locked_until IS NULL",
            )
            .bind(until)
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(SignIn::Locked(until))
    }

    /// The user with `id`, unless disabled.
    pub async fn agency_user(&self, id: i64) -> Result<Option<AgencyUser>> {
        let sql = format!("SELECT {COLUMNS} FROM agency_users WHERE id = $1");
        let row: Option<UserRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.filter(|r| r.disabled_at.is_none())
            .map(|r| r.user())
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_a_salt_and_verified() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(matches("correct horse battery", &a));
        assert!(!matches("correct horse batterY", &a));
        assert!(!matches("anything", "not a hash"));
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Admin, Role::Agent, Role::ReadOnly] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!(!Role::ReadOnly.can_act());
    }
}
