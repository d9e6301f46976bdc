//! The portal's start page: who is collecting, the account-reference form, how to check
//! the message is genuine, and whether the demo data is loaded. Nothing about any debtor.

use leptos::prelude::*;

use crate::i18n::{t, use_lang, Lang, Msg};
use crate::pages::ReferenceForm;
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
    let lang = use_lang();
    let status = Resource::new(|| (), |_| portal_status());
    let query = leptos_router::hooks::use_query_map();
    let link_invalid = move || query.read().get("link").is_some();
    let signed_out = move || query.read().get("signed_out").is_some();

    view! {
        {move || link_invalid().then(|| view! {
            <p role="alert" class="alert" data-testid="flash">{t(lang, Msg::LinkInvalid)}</p>
        })}
        {move || signed_out().then(|| view! {
            <p role="status" class="alert" data-testid="flash">{t(lang, Msg::SignedOut)}</p>
        })}
        <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
            {move || status.get().map(|s| match s {
                Ok(s) => view! {
                    <header class="masthead">
                        <p class="collector">{s.agency_name.clone()}</p>
                        <h1>{t(lang, Msg::SiteTitle)}</h1>
                    </header>
                    <p>{t(lang, Msg::Intro)}</p>
                    {s.demo_accounts.map(|n| view! {
                        <p class="demo-note" data-testid="demo-accounts">
                            {match lang {
                                Lang::En => format!("Demo mode: {n} sample accounts are loaded."),
                                Lang::Es => format!("Modo de demostración: hay {n} cuentas de ejemplo cargadas."),
                            }}
                        </p>
                    })}
                }.into_any(),
                Err(_) => view! { <p role="alert">{t(lang, Msg::Unavailable)}</p> }.into_any(),
            })}
        </Suspense>
        <ReferenceForm/>
        <details class="genuine">
            <summary>{t(lang, Msg::Genuine)}</summary>
            <ol>
                <li>{t(lang, Msg::GenuineWho)}</li>
                <li>{t(lang, Msg::GenuineCompare)}</li>
                <li>{t(lang, Msg::GenuineCall)}</li>
            </ol>
            <p><a href="/genuine">{t(lang, Msg::Genuine)}</a></p>
        </details>
    }
}
