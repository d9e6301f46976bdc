//! Optional two-step sign-in for agency users: a time-based one-time code (RFC 6238, as
//! authenticator apps make it: six digits, 30-second steps, HMAC-SHA1) from `totp-rs`.
//! A user turns it on by proving their app makes the right code; from then on a right
//! password only opens the way to the code. The password and the codes share one count
//! of tries (five, then a 15-minute lock), each code is taken once, and turning it off
//! takes a current code (or an admin's reset from the command line, for a lost phone).

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use totp_rs::{Secret, Totp};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::users::{AgencyUser, SignIn};
use crate::Accounts;

/// A secret being set up: shown to the user (as text and in the `otpauth://` address an
/// app reads from a QR code) until a code proves the app has it.
pub struct TotpSetup {
    /// The secret, base32 as apps take it.
    pub secret: SecretString,
    /// The `otpauth://totp/...` address carrying the secret, the issuer and the account.
    pub url: SecretString,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup { .. }")
    }
}

fn totp(secret: &str, issuer: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret.trim())
        .map_err(|_| Error::Invalid("the secret is not base32".into()))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| Error::Invalid(format!("the secret cannot be used: {e}")))
}

/// A new random secret (160 bits, as RFC 4226 recommends) for `user`, named in apps as
/// `issuer` (the agency) and the user's email.
pub fn new_setup(user: &AgencyUser, issuer: &str) -> Result<TotpSetup> {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let secret = Secret::new_stack(bytes).to_base32();
    let url = totp(&secret, issuer, &user.email)?
        .to_url()
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(TotpSetup {
        secret: SecretString::from(secret),
        url: SecretString::from(url),
    })
}

/// The 30-second step `code` belongs to at `now` (one step either side allowed for a
/// slow clock), if it is right.
fn step_of(secret: &str, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "settle", "user").ok()?;
    t.check(&code, u64::try_from(now.timestamp()).ok()?)
        .and_then(|step| i64::try_from(step).ok())
}

/// The code for `secret` at `now`: for tests and the demo.
pub fn code_at(secret: &str, now: DateTime<Utc>) -> Result<String> {
    let t = totp(secret, "settle", "user")?;
    Ok(t.generate(u64::try_from(now.timestamp()).unwrap_or(0))
        .to_string())
}

impl Accounts {
    /// True when `user` signs in with a code as well as a password.
    pub async fn two_step_on(&self, user: &AgencyUser) -> Result<bool> {
        Ok(self.totp_secret(user.id).await?.is_some())
    }

    async fn totp_secret(&self, user: i64) -> Result<Option<String>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT totp_secret FROM agency_users WHERE id = $1",
            )
            .bind(user)
            .fetch_optional(pool)
            .await?
            .flatten()
        }))
    }

    /// Turns two-step sign-in on for `user` with `secret` once `code` proves their app
    /// makes its codes (audited in the same transaction). False, and nothing changed, when
    /// the code is wrong or it is already on.
    pub async fn enable_two_step(
        &self,
        user: &AgencyUser,
        secret: &SecretString,
        code: &str,
    ) -> Result<bool> {
        let secret = secret.expose_secret();
        let Some(step) = step_of(secret, code, self.clock.now()) else {
            return Ok(false);
        };
        let now = self.clock.now();
        Ok(with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE agency_users SET totp_secret = $1, totp_last_step = $2
                 WHERE id = $3 AND totp_secret IS NULL",
            )
            .bind(secret)
            .bind(step)
            .bind(user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                crate::console::audit_in!(
                    tx,
                    user.agency.0,
                    user.id,
                    "two_step_on",
                    None::<i64>,
                    &user.email,
                    now
                );
            }
            tx.commit().await?;
            done == 1
        }))
    }

    /// Turns two-step sign-in off for `user` when `code` is a current code not used
    /// before (audited in the same transaction); false, and nothing changed, otherwise.
    /// Each try counts as a sign-in try: someone holding a stolen session cannot guess
    /// codes here without locking the user.
    pub async fn disable_two_step(&self, user: &AgencyUser, code: &str) -> Result<bool> {
        let Some(secret) = self.totp_secret(user.id).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        let Some(tries) = self.count_try(user.id, now).await? else {
            return Ok(false);
        };
        let step = step_of(&secret, code, now).filter(|_| tries <= crate::users::MAX_FAILURES);
        let Some(step) = step else {
            self.wrong_try(user.id, tries, now).await?;
            return Ok(false);
        };
        let done = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE agency_users SET totp_secret = NULL, totp_last_step = NULL,
                     failed_logins = 0
                 WHERE id = $1 AND totp_secret = $2 AND totp_last_step < $3",
            )
            .bind(user.id)
            .bind(&secret)
            .bind(step)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                crate::console::audit_in!(
                    tx,
                    user.agency.0,
                    user.id,
                    "two_step_off",
                    None::<i64>,
                    &user.email,
                    now
                );
            }
            tx.commit().await?;
            done == 1
        });
        if !done {
            // A code already used: a wrong try like any other.
            self.wrong_try(user.id, tries, now).await?;
        }
        Ok(done)
    }

    /// Turns two-step sign-in off for the user with `email` (the command line's answer to a
    /// lost phone); false when there is no such user or it was off.
    /// The audit log names the user as the one it was done to, "by the command line".
    pub async fn reset_two_step(&self, email: &str) -> Result<bool> {
        let email = email.trim().to_ascii_lowercase();
        let now = self.clock.now();
        let done = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let reset: Option<(i64, i64)> = sqlx::query_as(
                "UPDATE agency_users SET totp_secret = NULL, totp_last_step = NULL
                 WHERE email = $1 AND totp_secret IS NOT NULL
                 RETURNING id, agency_id",
            )
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((id, agency)) = reset {
                crate::console::audit_in!(
                    tx,
                    agency,
                    id,
                    "two_step_reset",
                    None::<i64>,
                    format!("{email}, by the command line"),
                    now
                );
            }
            tx.commit().await?;
            reset.is_some()
        });
        Ok(done)
    }

    /// The second step of a sign-in whose password was right ([`SignIn::NeedsCode`]):
    /// the code counts as a try like a password does (five wrong tries of either lock
    /// sign-in for 15 minutes), and a code already used, here or on another server, is
    /// wrong.
    pub async fn sign_in_code(&self, user: i64, code: &str) -> Result<SignIn> {
        let now = self.clock.now();
        let Some(tries) = self.count_try(user, now).await? else {
            return Ok(SignIn::Locked(
                self.locked_until(user).await?.unwrap_or(now),
            ));
        };
        let found = self.agency_user(user).await?;
        let secret = self.totp_secret(user).await?;
        if let (Some(found), Some(secret)) = (found, secret) {
            if tries <= crate::users::MAX_FAILURES {
                if let Some(step) = step_of(&secret, code, now) {
                    // Taking the step and clearing the count in one statement: a code sent
                    // twice at once is accepted once.
                    let taken = with_db!(&self.db, pool => {
                        sqlx::query(
                            "UPDATE agency_users SET totp_last_step = $1, failed_logins = 0,
                                 locked_until = NULL
                             WHERE id = $2 AND totp_last_step < $1",
                        )
                        .bind(step)
                        .bind(user)
                        .execute(pool)
                        .await?
                        .rows_affected()
                    });
                    if taken == 1 {
                        return Ok(SignIn::Ok(found));
                    }
                }
            }
        }
        self.wrong_try(user, tries, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B's SHA-1 secret ("12345678901234567890"), in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_the_rfc_vectors() {
        // RFC 6238 appendix B gives 8 digits; the last six are the six-digit code.
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        assert_eq!(code_at(RFC_SECRET, at(59)).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, at(1_111_111_109)).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, at(1_234_567_890)).unwrap(), "005924");
    }

    #[test]
    fn a_code_is_right_for_its_step_and_the_next_only() {
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        assert_eq!(step_of(RFC_SECRET, "287082", at(59)), Some(1));
        assert_eq!(step_of(RFC_SECRET, "287 082", at(75)), Some(1));
        assert_eq!(step_of(RFC_SECRET, "287082", at(95)), None);
        assert_eq!(step_of(RFC_SECRET, "287083", at(59)), None);
        assert_eq!(step_of(RFC_SECRET, "28708", at(59)), None);
        assert_eq!(step_of(RFC_SECRET, "２８７０８２", at(59)), None);
    }
}
