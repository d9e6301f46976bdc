//! Two-step sign-in in the console (server functions under `/agency/api`): the code step
//! after a right password, and each user's own setting (set up with a QR code, turned on
//! by a first code, turned off with a current code).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agency::Me;

/// The security page (no `Debug`: it may carry a secret being set up).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityData {
    /// The user's header line.
    pub me: Me,
    /// Two-step sign-in is on.
    pub on: bool,
    /// A setup in progress: the secret (base32) and its QR code as SVG.
    pub setup: Option<(String, String)>,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod imp {
    use tower_sessions::Session;

    use crate::portal::imp::unavailable;
    use leptos::prelude::ServerFnError;

    /// The user whose password was right and whose code is awaited, and since when.
    pub const PENDING: &str = "agency.pending_user";
    /// The secret of a setup in progress.
    pub const SETUP: &str = "agency.totp_setup";
    /// How long the code step waits after the password.
    pub const PENDING_MINUTES: i64 = 5;

    /// The user awaiting a code, if the password step was recent enough.
    pub async fn pending(s: &Session) -> Result<Option<i64>, ServerFnError> {
        let found: Option<(i64, chrono::DateTime<chrono::Utc>)> =
            s.get(PENDING).await.map_err(unavailable)?;
        Ok(found
            .filter(|(_, at)| {
                chrono::Utc::now() - *at <= chrono::Duration::minutes(PENDING_MINUTES)
            })
            .map(|(id, _)| id))
    }

    /// A QR code of `text` as an SVG document.
    pub fn qr_svg(text: &str) -> Option<String> {
        let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
        Some(
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build(),
        )
    }
}

/// The sign-in code page's flash; `None` in the second place when no password step is
/// waiting (the page then sends the user back to sign in).
#[server(prefix = "/agency/api")]
pub async fn sign_in_code_state() -> Result<(Option<String>, bool), ServerFnError> {
    let s = crate::portal::imp::session().await?;
    let waiting = imp::pending(&s).await?.is_some();
    Ok((crate::agency::imp::take_flash(&s).await?, waiting))
}

/// The second step of sign-in: a code from the user's app. A wrong code counts as a
/// wrong password does; a lock or an expired first step goes back to the start.
#[server(prefix = "/agency/api")]
pub async fn agency_sign_in_code(code: String) -> Result<(), ServerFnError> {
    use crate::agency::imp::{set_flash, AGENCY_USER};
    use crate::portal::imp::{accounts, session, unavailable};
    use accounts::users::SignIn;
    let accounts = accounts()?;
    let s = session().await?;
    if let Some(limiter) = use_context::<crate::RateLimit>() {
        if !limiter.check().await {
            set_flash(&s, "busy").await?;
            leptos_axum::redirect("/agency/sign-in/code");
            return Ok(());
        }
    }
    let Some(user) = imp::pending(&s).await? else {
        s.remove_value(imp::PENDING).await.map_err(unavailable)?;
        set_flash(&s, "code_expired").await?;
        leptos_axum::redirect("/agency/sign-in");
        return Ok(());
    };
    match accounts
        .sign_in_code(user, &code)
        .await
        .map_err(unavailable)?
    {
        SignIn::Ok(user) => {
            // A new session id at sign-in defeats session fixation.
            s.remove_value(imp::PENDING).await.map_err(unavailable)?;
            s.cycle_id().await.map_err(unavailable)?;
            s.insert(AGENCY_USER, user.id).await.map_err(unavailable)?;
            leptos_axum::redirect("/agency/disputes");
        }
        SignIn::Locked(_) => {
            s.remove_value(imp::PENDING).await.map_err(unavailable)?;
            set_flash(&s, "locked").await?;
            leptos_axum::redirect("/agency/sign-in");
        }
        SignIn::Wrong | SignIn::NeedsCode(_) => {
            set_flash(&s, "code_wrong").await?;
            leptos_axum::redirect("/agency/sign-in/code");
        }
    }
    Ok(())
}

/// The signed-in user's two-step setting and any setup in progress.
#[server(prefix = "/agency/api")]
pub async fn security_view() -> Result<Option<SecurityData>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let on = accounts.two_step_on(&user).await.map_err(unavailable)?;
    let setup = if on {
        None
    } else {
        s.get::<(String, String)>(imp::SETUP)
            .await
            .map_err(unavailable)?
            .and_then(|(secret, url)| imp::qr_svg(&url).map(|svg| (secret, svg)))
    };
    Ok(Some(SecurityData {
        me: console::me(&accounts, &user).await?,
        on,
        setup,
        flash: console::take_flash(&s).await?,
    }))
}

/// Starts a setup: a new secret, kept in the session until a code proves the app has it.
#[server(prefix = "/agency/api")]
pub async fn begin_two_step() -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    use secrecy::ExposeSecret;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let issuer = console::me(&accounts, &user).await?.agency;
    let issuer = if issuer.is_empty() {
        "Settle".to_string()
    } else {
        format!("Settle {issuer}")
    };
    let setup = accounts::totp::new_setup(&user, &issuer).map_err(unavailable)?;
    s.insert(
        imp::SETUP,
        (
            setup.secret.expose_secret().to_string(),
            setup.url.expose_secret().to_string(),
        ),
    )
    .await
    .map_err(unavailable)?;
    leptos_axum::redirect("/agency/security");
    Ok(())
}

/// Turns two-step sign-in on with the setup's secret once `code` matches it.
#[server(prefix = "/agency/api")]
pub async fn confirm_two_step(code: String) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let setup: Option<(String, String)> = s.get(imp::SETUP).await.map_err(unavailable)?;
    let flash = match setup {
        None => "code_no_setup",
        Some((secret, _)) => {
            let secret = secrecy::SecretString::from(secret);
            if accounts
                .enable_two_step(&user, &secret, &code)
                .await
                .map_err(unavailable)?
            {
                s.remove_value(imp::SETUP).await.map_err(unavailable)?;
                "two_step_on"
            } else {
                "code_wrong"
            }
        }
    };
    console::set_flash(&s, flash).await?;
    leptos_axum::redirect("/agency/security");
    Ok(())
}

/// Turns two-step sign-in off when `code` is a current code.
#[server(prefix = "/agency/api")]
pub async fn end_two_step(code: String) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let off = accounts
        .disable_two_step(&user, &code)
        .await
        .map_err(unavailable)?;
    console::set_flash(&s, if off { "two_step_off" } else { "code_wrong" }).await?;
    leptos_axum::redirect("/agency/security");
    Ok(())
}
