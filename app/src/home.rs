//! The portal's start page (a placeholder until the identity check lands): who is
//! collecting, how to check the message is genuine, and whether the demo data is loaded.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the start page shows: nothing about any debtor, only the collector's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalInfo {
    /// The debt collector's name.
    pub agency_name: String,
    /// How many accounts the agency has placed (shown only in demo mode).
    pub demo_accounts: Option<i64>,
}

/// Reads the collector's identity from the accounts backend.
#[server]
pub async fn portal_status() -> Result<PortalInfo, ServerFnError> {
    let accounts = expect_context::<accounts::Accounts>();
    let agencies = accounts.agencies().await.map_err(|e| {
        leptos::logging::error!("portal_status: {e}");
        ServerFnError::new("the service is unavailable, please try again shortly")
    })?;
    let Some(agency) = agencies.into_iter().next() else {
        return Ok(PortalInfo {
            agency_name: "Settle".to_string(),
            demo_accounts: None,
        });
    };
    let demo_accounts = if agency.slug == accounts::demo::DEMO_AGENCY_SLUG {
        Some(accounts.count_accounts(agency.id).await.map_err(|e| {
            leptos::logging::error!("portal_status: {e}");
            ServerFnError::new("the service is unavailable, please try again shortly")
        })?)
    } else {
        None
    };
    Ok(PortalInfo {
        agency_name: agency.name,
        demo_accounts,
    })
}

/// The start page.
#[component]
pub fn HomePage() -> impl IntoView {
    let status = Resource::new(|| (), |_| portal_status());
    // False in the server's HTML; the browser flips it once hydration has run.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || status.get().map(|s| match s {
                Ok(s) => view! {
                    <header class="masthead">
                        <p class="collector">{s.agency_name.clone()}</p>
                        <h1>"Resolve your account online"</h1>
                    </header>
                    <p>
                        "Follow the link in the text message or letter you received. "
                        "You will be asked to confirm who you are before you see any account details."
                    </p>
                    {s.demo_accounts.map(|n| view! {
                        <p class="demo-note" data-testid="demo-accounts">
                            "Demo mode: " {n} " sample accounts are loaded."
                        </p>
                    })}
                }.into_any(),
                Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
        <details class="genuine">
            <summary>"Is this message really from us?"</summary>
            <ol>
                <li>"We never ask for your full Social Security number or a card PIN."</li>
                <li>"Compare the account reference with the letter we mailed you."</li>
                <li>"Call the number printed on that letter, not one from a text message."</li>
            </ol>
        </details>
        <p class="status" data-testid="hydration" data-hydrated=move || hydrated.get().to_string()>
            {move || if hydrated.get() { "Interactive features are on." } else { "" }}
        </p>
    }
}
