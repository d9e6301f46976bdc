//! Settle's pages, rendered on the server and hydrated in the browser. Every page works
//! with JavaScript off; hydration only adds conveniences.

mod home;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

pub use home::{portal_status, PortalInfo};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
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
    view! {
        <Stylesheet id="settle" href="/pkg/settle.css"/>
        <Title text="Settle"/>
        <Meta name="description" content="Resolve your account online, at your own pace."/>
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Router>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=home::HomePage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The page for an address that leads nowhere.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1>"Page not found"</h1>
        <p><a href="/">"Go to the start page"</a></p>
    }
}
