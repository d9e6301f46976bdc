//! The server's payment routes: the demo processor's checkout page (only when no Stripe key
//! is configured), Stripe's webhook, and the worker loop that charges due instalments.

use std::sync::Arc;
use std::time::Duration;

use accounts::payments::{DemoCheckout, DemoOutcome, PaymentGateway, DEMO_CARDS};
use accounts::Accounts;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
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
