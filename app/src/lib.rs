//! Settle's pages, rendered on the server and hydrated in the browser. Every page works
//! with JavaScript off; hydration only adds conveniences.

// The `pub` modules hold `#[server]` functions, whose arguments become struct fields that
// cannot carry docs; hence `allow(missing_docs)` on each of them.
#[allow(missing_docs)]
pub mod agency;
mod agency_pages;
#[allow(missing_docs)]
pub mod api_keys;
mod api_keys_pages;
#[allow(missing_docs)]
pub mod console;
mod console_pages;
mod dispute_pages;
#[allow(missing_docs)]
pub mod disputes;
mod home;
pub mod i18n;
#[allow(missing_docs)]
pub mod inbox;
mod inbox_pages;
mod pages;
#[allow(missing_docs)]
pub mod pay;
mod pay_pages;
#[allow(missing_docs)]
pub mod portal;
#[allow(missing_docs)]
pub mod reminders;
mod reminders_pages;
mod report_pages;
#[allow(missing_docs)]
pub mod reports;
#[allow(missing_docs)]
pub mod rules;
mod rules_pages;
#[allow(missing_docs)]
pub mod security;
mod security_pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use home::{portal_status, PortalInfo};
use i18n::{request_lang, t, Msg};

/// The session keys the portal uses (the server's link route writes them too).
#[cfg(feature = "ssr")]
pub mod session_keys {
    /// The account chosen by link or reference (0: an unknown reference).
    pub const ACCOUNT: &str = "portal.account";
    /// True once date of birth and ZIP code matched.
    pub const VERIFIED: &str = "portal.verified";
    /// A one-time message for the next page.
    pub const FLASH: &str = "portal.flash";
    /// Where to go after the identity check (the page a message's link is about).
    pub const NEXT: &str = "portal.next";
    /// The signed-in agency user's id (in the console's own session).
    pub const AGENCY_USER: &str = "agency.user";
    /// A one-time message for the console's next page.
    pub const AGENCY_FLASH: &str = "agency.flash";
}

/// Present in the server's context when a Telegram bot is configured: the account page
/// then offers to connect a chat (`POST /telegram/connect`).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Copy)]
pub struct TelegramEnabled;

/// A per-client-address limit on identity checks, shared by every account, so one client
/// cannot spray guesses across many accounts.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct RateLimit(std::sync::Arc<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>);

#[cfg(feature = "ssr")]
impl RateLimit {
    /// Allows `per_minute` checks a minute per address, with bursts up to `burst`.
    pub fn per_ip(per_minute: u32, burst: u32) -> Self {
        let n = |v: u32| std::num::NonZeroU32::new(v.max(1)).expect("non-zero");
        RateLimit(std::sync::Arc::new(governor::RateLimiter::keyed(
            governor::Quota::per_minute(n(per_minute)).allow_burst(n(burst)),
        )))
    }

    /// True when the current request's client may make one more check.
    pub async fn check(&self) -> bool {
        use axum::extract::ConnectInfo;
        if let Ok(axum::Extension(ClientIp(ip))) =
            leptos_axum::extract::<axum::Extension<ClientIp>>().await
        {
            return self.0.check_key(&ip).is_ok();
        }
        match leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>().await {
            Ok(ConnectInfo(addr)) => self.0.check_key(&addr.ip()).is_ok(),
            // Without the peer address (not served over TCP) there is no one to limit.
            Err(_) => true,
        }
    }
}

/// The client's address as the server judged it, put in each request's extensions: the
/// connection's peer, or behind a trusted reverse proxy the address it reported.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = request_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: routes and shared page chrome.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = request_lang();
    provide_context(lang);
    view! {
        <Stylesheet id="settle" href="/pkg/settle.css"/>
        <Title text=t(lang, Msg::SiteTitle)/>
        <Meta name="description" content=t(lang, Msg::Intro)/>
        <a class="skip-link" href="#main">{t(lang, Msg::SkipToContent)}</a>
        <Router>
            <pages::TopBar/>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("") view=home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/verify") view=pages::VerifyPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=pages::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/notice") view=pages::NoticePage ssr=SsrMode::Async/>
                    <Route path=path!("/preferences") view=pages::PreferencesPage ssr=SsrMode::Async/>
                    <Route path=path!("/pay") view=pay_pages::PayPage ssr=SsrMode::Async/>
                    <Route path=path!("/plan") view=pay_pages::PlanPage ssr=SsrMode::Async/>
                    <Route path=path!("/receipt/:number") view=pay_pages::ReceiptPage ssr=SsrMode::Async/>
                    <Route path=path!("/dispute") view=dispute_pages::DisputeFormPage ssr=SsrMode::Async/>
                    <Route path=path!("/disputes/:id") view=dispute_pages::DisputePage ssr=SsrMode::Async/>
                    <Route path=path!("/genuine") view=pages::GenuinePage/>
                    <Route path=path!("/agency/sign-in") view=agency_pages::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/sign-in/code") view=security_pages::SignInCodePage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/security") view=security_pages::SecurityPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/disputes") view=agency_pages::QueuePage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/disputes/:id") view=agency_pages::ConsoleDisputePage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/accounts") view=console_pages::AccountsPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/accounts/:id") view=console_pages::ConsoleAccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/import") view=console_pages::ImportPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/imports/:run") view=console_pages::ImportResultPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/audit") view=console_pages::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/reports") view=report_pages::ReportsPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/rules") view=rules_pages::RulesPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/reminders") view=reminders_pages::RemindersPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/api-keys") view=api_keys_pages::ApiKeysPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/inbox") view=inbox_pages::InboxListPage ssr=SsrMode::Async/>
                    <Route path=path!("/agency/inbox/:id") view=inbox_pages::InboxMessagePage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The number in the route parameter `name`, or 0 (which names nothing) when it is not one.
pub(crate) fn route_id(name: &'static str) -> impl Fn() -> i64 + Copy + Send + Sync {
    let params = leptos_router::hooks::use_params_map();
    move || {
        params
            .read()
            .get(name)
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0)
    }
}

/// The page for an address that leads nowhere.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    let lang = i18n::use_lang();
    view! {
        <h1>{t(lang, Msg::NotFoundTitle)}</h1>
        <p><a href="/">{t(lang, Msg::GoHome)}</a></p>
    }
}
