//! The server's Telegram side: the bot (when a token is configured), its sender settings,
//! the portal's "Use Telegram" action, and the webhook in webhook mode.

use std::num::NonZeroU32;

use accounts::messaging::{ChatGateway, DemoChat, SenderOptions};
use accounts::Accounts;
use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;
use secrecy::ExposeSecret;
use settle_bot::{SettleBot, TelegramGateway};
use tower_sessions::Session;

use crate::settings::Settings;

/// Telegram accepts about 30 messages a second from one bot.
const PER_SECOND: u32 = 25;

/// The bot, when both a token and a username are configured.
pub fn telegram_bot(accounts: &Accounts, settings: &Settings) -> anyhow::Result<Option<SettleBot>> {
    let (token, username) = match (
        &settings.telegram_bot_token,
        &settings.telegram_bot_username,
    ) {
        (Some(t), Some(u)) => (t, u),
        (None, None) => return Ok(None),
        _ => anyhow::bail!("set both telegram_bot_token and telegram_bot_username, or neither"),
    };
    let api = settings
        .telegram_api_url
        .parse()
        .context("telegram_api_url is not a URL")?;
    let bot = teloxide::Bot::new(token.expose_secret()).set_api_url(api);
    Ok(Some(SettleBot::new(
        bot,
        accounts.clone(),
        crate::messaging::link_settings(settings),
        sender_options(settings),
        username,
    )))
}

/// The Telegram transport of the worker: the bot's, or the demo transport without one.
pub fn chat_gateway(bot: Option<&SettleBot>) -> Box<dyn ChatGateway> {
    match bot {
        Some(b) => Box::new(TelegramGateway::new(b.bot().clone())),
        None => Box::new(DemoChat),
    }
}

/// How Telegram rows are sent: paced under the Bot API's limit.
pub fn sender_options(settings: &Settings) -> SenderOptions {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "settle".into());
    SenderOptions {
        worker: format!("{host}:{}:telegram", std::process::id()),
        batch: 200,
        concurrency: 8,
        lease: chrono::Duration::seconds(settings.outbox_lease_secs.max(1) as i64),
        max_attempts: 5,
        from: String::new(),
        status_callback: None,
        per_second: NonZeroU32::new(PER_SECOND),
    }
}

/// `POST /telegram/connect` (inside the session layer): a verified debtor is sent to the
/// bot with a fresh single-use binding link.
pub fn connect_router(bot: Option<SettleBot>) -> Router {
    match bot {
        Some(bot) => Router::new()
            .route("/telegram/connect", post(connect))
            .with_state(bot),
        None => Router::new(),
    }
}

/// The webhook (outside the session layer), in webhook mode only.
pub fn webhook_router(bot: Option<SettleBot>, settings: &Settings) -> Router {
    match (bot, &settings.telegram_webhook_secret) {
        (Some(bot), Some(secret)) => settle_bot::webhook_router(bot, secret.clone()),
        _ => Router::new(),
    }
}

async fn connect(State(bot): State<SettleBot>, session: Session) -> Result<Redirect, StatusCode> {
    let Some(account) = crate::portal::verified_account(&session).await? else {
        return Ok(Redirect::to("/verify"));
    };
    let link = bot.binding_link(account).await.map_err(|e| {
        tracing::error!("making a telegram link: {e}");
        StatusCode::SERVICE_UNAVAILABLE
    })?;
    Ok(Redirect::to(&link))
}
