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
    let sessions =
        crate::portal::session_layer(&accounts, settings.public_url.starts_with("https://"))
            .await
            .context("preparing the session store")?;
    let limit = app::RateLimit::per_ip(settings.verify_per_minute, settings.verify_per_minute * 3);
    let routes = generate_route_list(App);
    let pkg_dir =
        std::path::Path::new(&*leptos_options.site_root).join(&*leptos_options.site_pkg_dir);
    let pkg = crate::assets::Assets::load(&pkg_dir)
        .with_context(|| format!("reading {}", pkg_dir.display()))?
        .router(&format!("/{}", leptos_options.site_pkg_dir));
    let health = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(accounts.clone());
    let links = crate::portal::router().with_state(accounts.clone());
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
    Ok(Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            {
                let accounts = accounts.clone();
                move || {
                    provide_context(accounts.clone());
                    provide_context(limit.clone());
                    provide_context(payments.clone());
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
        .layer(sessions)
        .layer(axum::middleware::from_fn(crate::portal::same_origin))
        .merge(pkg)
        .merge(health)
        .merge(crate::api::router())
        .merge(crate::payments::stripe_router(accounts.clone(), settings)?)
        .merge(crate::messaging::twilio_router(accounts.clone(), settings))
        .merge(crate::telegram::webhook_router(bot, settings)))
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

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let accounts = crate::open(&settings).await?;
    if settings.seed_demo() {
        if let Some(report) = accounts.seed_demo().await.context("seeding demo data")? {
            tracing::info!(accounts = report.imported, "seeded the demo agency");
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
    tokio::spawn(crate::payments::run_worker(
        accounts.clone(),
        gateway.clone(),
        Duration::from_secs(settings.worker_interval_secs.max(1)),
    ));
    let sms = crate::messaging::sms_gateway(&settings)?;
    tracing::info!(transport = sms.name(), "text messages");
    let bot = crate::telegram::telegram_bot(&accounts, &settings)?;
    tokio::spawn(crate::messaging::run_worker(
        accounts.clone(),
        sms,
        crate::telegram::chat_gateway(bot.as_ref()),
        settings.clone(),
    ));
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
