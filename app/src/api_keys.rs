//! The console's API access (server functions under `/agency/api`; admins only): the agency's
//! API keys, made (the key shown once) and revoked, and its webhook endpoints.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agency::Me;

/// One key as the page lists it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// Its scopes, comma-separated.
    pub scopes: String,
    /// When it was made.
    pub created: String,
    /// When it was last used, or "never".
    pub last_used: String,
    /// When it was revoked.
    pub revoked: Option<String>,
}

/// One webhook endpoint as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRow {
    /// Where events go.
    pub url: String,
    /// Which events, comma-separated.
    pub events: String,
    /// When it was added.
    pub created: String,
    /// When it was removed.
    pub removed: Option<String>,
}

/// The API access page (no `Debug`: it may carry a key just made).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiAccessData {
    /// The user's header line.
    pub me: Me,
    /// Only admins see and manage keys.
    pub is_admin: bool,
    /// The agency's keys, newest first.
    pub keys: Vec<KeyRow>,
    /// The agency's webhook endpoints.
    pub hooks: Vec<HookRow>,
    /// A key made by the last form, shown this once.
    pub new_key: Option<String>,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

/// The session key that carries a new API key to the one page view that shows it.
#[cfg(feature = "ssr")]
const NEW_KEY: &str = "agency.new_api_key";

/// The agency's keys and webhook endpoints; the key just made, once.
#[server(prefix = "/agency/api")]
pub async fn api_access_view() -> Result<Option<ApiAccessData>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let me = console::me(&accounts, &user).await?;
    let flash = console::take_flash(&s).await?;
    if user.role != accounts::users::Role::Admin {
        return Ok(Some(ApiAccessData {
            me,
            is_admin: false,
            keys: Vec::new(),
            hooks: Vec::new(),
            new_key: None,
            flash,
        }));
    }
    let new_key = s.remove::<String>(NEW_KEY).await.map_err(unavailable)?;
    let keys = accounts
        .api_keys(user.agency)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: console::when(k.created_at),
            last_used: k
                .last_used_at
                .map(console::when)
                .unwrap_or_else(|| "never".into()),
            revoked: k.revoked_at.map(console::when),
        })
        .collect();
    let hooks = accounts
        .webhooks(user.agency)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|h| HookRow {
            url: h.url,
            events: h
                .events
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: console::when(h.created_at),
            removed: h.disabled_at.map(console::when),
        })
        .collect();
    Ok(Some(ApiAccessData {
        me,
        is_admin: true,
        keys,
        hooks,
        new_key,
        flash,
    }))
}

/// Makes an API key (admins only); the page shows it once.
#[server(prefix = "/agency/api")]
pub async fn make_api_key(
    name: String,
    accounts_read: Option<String>,
    accounts_write: Option<String>,
    webhooks: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    use accounts::api::Scope;
    use secrecy::ExposeSecret;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if user.role != accounts::users::Role::Admin {
        "keys_admin_only".to_string()
    } else {
        let scopes: Vec<Scope> = [
            (accounts_read, Scope::AccountsRead),
            (accounts_write, Scope::AccountsWrite),
            (webhooks, Scope::Webhooks),
        ]
        .into_iter()
        .filter_map(|(on, scope)| on.map(|_| scope))
        .collect();
        match accounts
            .create_api_key(user.agency, &name, &scopes, Some(&user))
            .await
        {
            Ok((_, key)) => {
                // Held in the server-side session for the next page view only.
                s.insert(NEW_KEY, key.expose_secret())
                    .await
                    .map_err(unavailable)?;
                "key_made".to_string()
            }
            Err(accounts::Error::Invalid(why)) => format!("error:No key was made: {why}."),
            Err(e) => return Err(unavailable(e)),
        }
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect("/agency/api-keys");
    Ok(())
}

/// Revokes an API key at once (admins only).
#[server(prefix = "/agency/api")]
pub async fn revoke_key(id: i64) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if user.role != accounts::users::Role::Admin {
        "keys_admin_only"
    } else if accounts
        .revoke_api_key(user.agency, id, Some(&user))
        .await
        .map_err(unavailable)?
    {
        "key_revoked"
    } else {
        "key_missing"
    };
    console::set_flash(&s, flash).await?;
    leptos_axum::redirect("/agency/api-keys");
    Ok(())
}
