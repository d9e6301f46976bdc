//! Webhook mode, for several instances behind a load balancer: Telegram posts each update
//! with the secret token given to `setWebhook` in a header, checked in constant time.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use teloxide::types::Update;

use crate::SettleBot;

/// The header Telegram puts the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Clone)]
struct Hook {
    bot: SettleBot,
    secret: SecretString,
}

/// `POST /webhooks/telegram`: a wrong or missing secret token gets 401 and changes
/// nothing; a body that is not an update gets 400; an update the backend could not handle
/// gets 500, so Telegram delivers it again.
pub fn webhook_router(bot: SettleBot, secret: SecretString) -> Router {
    Router::new()
        .route("/webhooks/telegram", post(receive))
        .with_state(Hook { bot, secret })
}

async fn receive(State(hook): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let expected = hook.secret.expose_secret().as_bytes();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        tracing::warn!("telegram webhook refused: wrong or missing secret token");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(update) = serde_json::from_slice::<Update>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match hook.bot.handle(update).await {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::error!("telegram update not handled: {e:#}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
