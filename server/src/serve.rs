//! `serve`: the web server (portal, static assets, health checks).

use std::net::SocketAddr;

use std::sync::Arc;
use std::time::Duration;

use accounts::payments::{DemoGateway, PaymentGateway};
use accounts::Accounts;
use anyhow::Context;
use app::{shell, App};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::settings::Settings;

/// Builds the application router around an accounts backend.
pub async fn router(
    accounts: Accounts,
    gateway: Arc<dyn PaymentGateway>,
    bot: Option<settle_bot::SettleBot>,
    leptos_options: LeptosOptions,
    settings: &Settings,
) -> anyhow::Result<Router> {
    let telegram = bot.is_some();
    let secure = settings.public_url.starts_with("https://");
    let store = crate::portal::session_store(&accounts)
        .await
        .context("preparing the session store")?;
    let limit = app::RateLimit::per_ip(settings.verify_per_minute, settings.verify_per_minute * 3);
    let routes = generate_route_list(App);
    let pkg_dir =
        std::path::Path::new(&*leptos_options.site_root).join(&*leptos_options.site_pkg_dir);
    let pkg = crate::assets::Assets::load(&pkg_dir)
        .with_context(|| format!("reading {}", pkg_dir.display()))?
        .router(&format!("/{}", leptos_options.site_pkg_dir));
    let metrics = crate::metrics::Metrics::new();
    let health = health_router(accounts.clone());
    let links = crate::portal::router().with_state(accounts.clone());
    // The console's inbox answers through the same message machinery as the worker.
    let message_links = crate::messaging::link_settings(settings);
    let payments = app::pay::Payments {
        gateway: gateway.clone(),
        public_url: settings.public_url.trim_end_matches('/').to_string(),
    };
    let demo = if gateway.name() == "demo" {
        crate::payments::demo_router().with_state(accounts.clone())
    } else {
        Router::new()
    };
    // The demo phone shows every text and takes replies for any number: only on a demo
    // database, never next to a real provider.
    let demo_phone = if settings.twilio_account_sid.is_none() && settings.seed_demo() {
        crate::messaging::demo_phone_router(settings).with_state(accounts.clone())
    } else {
        Router::new()
    };
    let pages = Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            {
                let accounts = accounts.clone();
                move || {
                    provide_context(accounts.clone());
                    provide_context(limit.clone());
                    provide_context(payments.clone());
                    provide_context(message_links.clone());
                    if telegram {
                        provide_context(app::TelegramEnabled);
                    }
                }
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .merge(links)
        .merge(demo)
        .merge(demo_phone)
        .merge(crate::telegram::connect_router(bot.clone()))
        .merge(crate::disputes::router(accounts.clone()))
        .merge(crate::agency::router(accounts.clone()));
    // One set of routes behind two session cookies: the console's under /agency, the
    // portal's everywhere else.
    let console = pages
        .clone()
        .layer(crate::portal::agency_sessions(store.clone(), secure))
        .into_service::<axum::body::Body>();
    let portal = pages
        .layer(crate::portal::portal_sessions(store, secure))
        .into_service::<axum::body::Body>();
    Ok(Router::new()
        .route_service("/agency", console.clone())
        .route_service("/agency/{*rest}", console)
        .fallback_service(portal)
        .layer(axum::middleware::from_fn(crate::portal::same_origin))
        .layer(axum::middleware::from_fn_with_state(
            crate::portal::TrustedProxies(settings.trusted_proxies.clone().into()),
            crate::portal::client_address,
        ))
        .merge(pkg)
        .merge(health)
        .merge(crate::api::router(
            accounts.clone(),
            settings.webhook_private_addresses,
        ))
        .merge(crate::payments::stripe_router(accounts.clone(), settings)?)
        .merge(crate::messaging::twilio_router(accounts.clone(), settings))
        .merge(crate::telegram::webhook_router(bot, settings))
        .merge(crate::metrics::router(accounts.clone(), metrics.clone()))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        )))
}

/// `/healthz` (the process runs) and `/readyz` (its database answers, migrations current).
pub fn health_router(accounts: Accounts) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(accounts)
}

/// Ready when the database answers and its schema is the one this build expects.
async fn readyz(State(accounts): State<Accounts>) -> (StatusCode, &'static str) {
    match accounts.migrations_current().await {
        Ok(true) => (StatusCode::OK, "ready"),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending"),
        Err(e) => {
            tracing::warn!("readiness check failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Leptos options from the build (output name, pkg dir) with Settle's settings on top.
fn leptos_options(settings: &Settings) -> anyhow::Result<LeptosOptions> {
    let mut options = get_configuration(None)
        .context("reading the Leptos build configuration")?
        .leptos_options;
    options.site_root = settings.site_root.display().to_string().into();
    options.site_addr = settings.listen;
    Ok(options)
}

/// The demo database's console user: an admin with a random password, written once (the
/// first time the demo data is seeded) to `demo-console-login.txt` beside the SQLite file,
/// readable by its owner only; the password never goes to the log. `settle users add`
/// makes others.
async fn demo_console_user(accounts: &Accounts, settings: &Settings) -> anyhow::Result<()> {
    use rand::distr::{Alphanumeric, SampleString};
    let Some(agency) = accounts
        .agency_by_slug(accounts::demo::DEMO_AGENCY_SLUG)
        .await?
    else {
        return Ok(());
    };
    let password = Alphanumeric.sample_string(&mut rand::rng(), 20);
    let email = "admin@demo.settle.test";
    let role = accounts::users::Role::Admin;
    accounts
        .create_user(agency.id, email, "Demo admin", role, &password)
        .await?;
    let dir = settings
        .database_url
        .expose()
        .strip_prefix("sqlite:")
        .map(|p| p.trim_start_matches("//"))
        .and_then(|p| {
            std::path::Path::new(p)
                .parent()
                .map(std::path::Path::to_path_buf)
        })
        .unwrap_or_default();
    let file = dir.join("demo-console-login.txt");
    let text = format!(
        "{}/agency/sign-in\nemail: {email}\npassword: {password}\n",
        settings.public_url.trim_end_matches('/')
    );
    write_private(&file, &text).with_context(|| format!("writing {}", file.display()))?;
    println!(
        "Demo agency console: sign in at {}/agency/sign-in with the login in {}",
        settings.public_url.trim_end_matches('/'),
        file.display()
    );
    Ok(())
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let accounts = crate::open(&settings).await?;
    if settings.seed_demo() {
        if let Some(report) = accounts.seed_demo().await.context("seeding demo data")? {
            tracing::info!(accounts = report.imported, "seeded the demo agency");
            demo_console_user(&accounts, &settings).await?;
        }
    }
    let options = leptos_options(&settings)?;
    let addr: SocketAddr = settings.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    tracing::info!(
        "Settle is serving on http://{} ({:?} database {:?})",
        listener.local_addr()?,
        accounts.engine(),
        settings.database_url
    );
    let gateway = gateway(&settings)?;
    tracing::info!(processor = gateway.name(), "payments");
    let sms = crate::messaging::sms_gateway(&settings)?;
    tracing::info!(transport = sms.name(), "text messages");
    let bot = crate::telegram::telegram_bot(&accounts, &settings)?;
    if settings.serve_runs_workers {
        tokio::spawn(crate::payments::run_worker(
            accounts.clone(),
            gateway.clone(),
            Duration::from_secs(settings.worker_interval_secs.max(1)),
        ));
        crate::webhooks::spawn(&accounts, &settings);
        tokio::spawn(crate::messaging::run_worker(
            accounts.clone(),
            sms,
            crate::telegram::chat_gateway(bot.as_ref()),
            settings.clone(),
        ));
    } else {
        tracing::info!("background work left to `settle worker` processes");
    }
    if let Some(bot) = &bot {
        if settings.telegram_webhook_secret.is_some() {
            tracing::info!("telegram bot in webhook mode at /webhooks/telegram");
        } else {
            tracing::info!("telegram bot polling for updates");
            let bot = bot.clone();
            tokio::spawn(async move { bot.run_polling().await });
        }
    }
    let app = router(accounts.clone(), gateway, bot, options, &settings).await?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    accounts.close().await;
    Ok(())
}

/// Stripe when a key is configured, otherwise the demo processor.
pub fn gateway(settings: &Settings) -> anyhow::Result<Arc<dyn PaymentGateway>> {
    use secrecy::ExposeSecret;
    Ok(match &settings.stripe_secret_key {
        Some(key) => Arc::new(
            settle_stripe::StripeGateway::new(key.expose_secret(), &settings.stripe_api_url)
                .context("configuring Stripe")?,
        ),
        None => Arc::new(DemoGateway::new(&settings.public_url)),
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
