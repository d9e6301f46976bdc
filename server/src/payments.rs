//! The server's payment routes: the demo processor's checkout page (only when no Stripe key
//! is configured), Stripe's webhook, and the worker loop that charges due instalments.

use std::sync::Arc;
use std::time::Duration;

use accounts::payments::{DemoCheckout, DemoOutcome, PaymentGateway, DEMO_CARDS};
use accounts::Accounts;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use secrecy::ExposeSecret;

use crate::settings::Settings;
use axum::Router;
use serde::Deserialize;

/// Routes of the demo processor's test checkout page.
pub fn demo_router() -> Router<Accounts> {
    Router::new().route("/demo-checkout/{id}", get(demo_page).post(demo_submit))
}

#[derive(Deserialize)]
struct PageQuery {
    error: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn demo_page(
    State(accounts): State<Accounts>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let checkout = match accounts.demo_checkout(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such checkout").into_response(),
        Err(e) => {
            tracing::error!("demo checkout: {e}");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let (title, button, back) = match &checkout {
        DemoCheckout::Payment {
            amount_minor,
            status,
            payment_id,
            ..
        } => {
            if status != "pending" {
                return Redirect::to(&format!("/receipt/{payment_id}")).into_response();
            }
            let amount = format!("${}.{:02}", amount_minor / 100, amount_minor % 100);
            (
                format!("Pay {amount}"),
                format!("Pay {amount}"),
                "/pay?cancelled=1",
            )
        }
        DemoCheckout::Setup { .. } => (
            "Save a card for your payment plan".to_string(),
            "Save card".to_string(),
            "/plan",
        ),
    };
    let error = q
        .error
        .map(|_| {
            "<p role=\"alert\" class=\"alert\" data-testid=\"flash\">Use one of the test card \
             numbers listed below.</p>"
        })
        .unwrap_or("");
    let cards: String = DEMO_CARDS
        .iter()
        .map(|(n, what)| format!("<li><code>{n}</code> {}</li>", escape(what)))
        .collect();
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test payment page (demo)</title>
<link rel="stylesheet" href="/pkg/settle.css"></head>
<body><main id="main">
<p class="demo-note" data-testid="demo-banner"><strong>Test payment page.</strong> This is Settle's
demo processor: no real money moves and no card is stored. With a Stripe key configured,
debtors see Stripe's own page instead.</p>
<h1>{title}</h1>
{error}
<form method="post" class="card">
<label for="card">Card number</label>
<input id="card" name="card" inputmode="numeric" autocomplete="off" required>
<button type="submit">{button}</button>
</form>
<h2>Test cards</h2><ul>{cards}</ul>
<p><a href="{back}">Cancel and go back</a></p>
</main></body></html>"#,
        title = escape(&title),
        button = escape(&button),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct CardForm {
    card: String,
}

async fn demo_submit(
    State(accounts): State<Accounts>,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    match accounts.demo_complete(&id, &form.card).await {
        Ok(DemoOutcome::Paid(p) | DemoOutcome::Declined(p)) => {
            Redirect::to(&format!("/receipt/{p}")).into_response()
        }
        Ok(DemoOutcome::Saved) => Redirect::to("/plan?saved=1").into_response(),
        Ok(DemoOutcome::UnknownCard) => {
            Redirect::to(&format!("/demo-checkout/{id}?error=card")).into_response()
        }
        Err(accounts::Error::NotFound(_)) => {
            (StatusCode::NOT_FOUND, "no such checkout").into_response()
        }
        Err(e) => {
            tracing::error!("demo checkout: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// What Stripe's webhook route needs.
#[derive(Clone)]
struct StripeHook {
    accounts: Accounts,
    gateway: settle_stripe::StripeGateway,
    secret: Arc<secrecy::SecretString>,
}

/// `POST /webhooks/stripe`, when a Stripe key and webhook secret are configured.
pub fn stripe_router(accounts: Accounts, settings: &Settings) -> anyhow::Result<Router> {
    let (Some(key), Some(secret)) = (&settings.stripe_secret_key, &settings.stripe_webhook_secret)
    else {
        return Ok(Router::new());
    };
    let gateway = settle_stripe::StripeGateway::new(key.expose_secret(), &settings.stripe_api_url)?;
    Ok(Router::new()
        .route("/webhooks/stripe", post(stripe_webhook))
        .with_state(StripeHook {
            accounts,
            gateway,
            secret: Arc::new(secret.clone()),
        }))
}

/// Verifies the signature on the raw body, then applies the event once. A bad signature is
/// a 400 and changes nothing; a repeated event is a 200 and changes nothing.
async fn stripe_webhook(
    State(hook): State<StripeHook>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let event = match settle_stripe::read_webhook(
        &hook.gateway,
        &body,
        signature,
        hook.secret.expose_secret(),
    )
    .await
    {
        Ok(event) => event,
        Err(e @ settle_stripe::WebhookError::Signature(_)) => {
            tracing::warn!("stripe webhook refused: {e}");
            return (StatusCode::BAD_REQUEST, "invalid signature or payload").into_response();
        }
        Err(e) => {
            tracing::warn!("stripe webhook deferred: {e}");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
        }
    };
    match hook.accounts.apply_event(&event).await {
        Ok(applied) => (StatusCode::OK, format!("{applied:?}")).into_response(),
        // An account that does not exist here, or an amount no posting can hold: retrying
        // will not help, and nothing was written.
        Err(e @ (accounts::Error::NotFound(_) | accounts::Error::Ledger(_))) => {
            tracing::warn!(event = %event.event_id, "stripe event refused: {e}");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "event cannot apply to any account",
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(event = %event.event_id, "stripe event not applied: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

/// Charges due plan instalments every `interval`, until the process ends.
pub async fn run_worker(accounts: Accounts, gateway: Arc<dyn PaymentGateway>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match accounts.charge_due_instalments(gateway.as_ref(), 100).await {
            Ok((0, 0)) => {}
            Ok((ok, failed)) => tracing::info!(ok, failed, "plan instalments charged"),
            Err(e) => tracing::error!("plan worker: {e}"),
        }
    }
}
