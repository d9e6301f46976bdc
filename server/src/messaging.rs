//! The server's messaging side: the SMS transport (Twilio, or the demo transport), the
//! worker loop (scheduling run, then sending), Twilio's webhooks for replies and delivery
//! reports, and the demo phone page.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use accounts::messaging::{
    ChatGateway, DemoSms, InboundSms, LinkSettings, RunOptions, SenderOptions, SmsGateway,
};
use accounts::Accounts;
use anyhow::Context;
use axum::extract::{Form, OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;

use crate::settings::Settings;

/// Twilio when an account sid and token are configured, otherwise the demo transport.
pub fn sms_gateway(settings: &Settings) -> anyhow::Result<Arc<dyn SmsGateway>> {
    Ok(
        match (&settings.twilio_account_sid, &settings.twilio_auth_token) {
            (Some(sid), Some(token)) => {
                let mut config = settle_twilio::TwilioConfig::new(
                    sid.clone(),
                    token.clone(),
                    &settings.sms_from,
                );
                config.base_url = settings.twilio_api_url.clone();
                Arc::new(settle_twilio::TwilioGateway::new(config).context("configuring Twilio")?)
            }
            (None, None) => Arc::new(DemoSms),
            _ => anyhow::bail!("set both twilio_account_sid and twilio_auth_token, or neither"),
        },
    )
}

/// Where links in messages point and how long they work.
pub fn link_settings(settings: &Settings) -> LinkSettings {
    LinkSettings {
        public_url: settings.public_url.trim_end_matches('/').to_string(),
        ttl: chrono::Duration::days(accounts::portal::DEFAULT_LINK_TTL_DAYS),
        // Offered only where a bot answers: both the token and the username are set.
        telegram_bot: settings
            .telegram_bot_token
            .as_ref()
            .and(settings.telegram_bot_username.clone()),
    }
}

/// How a scheduling run works.
pub fn run_options(settings: &Settings) -> RunOptions {
    RunOptions {
        batch: settings.run_batch.max(1),
        links: link_settings(settings),
    }
}

/// How the sending worker works; `limit` false lifts the per-sender limit (benchmarks).
pub fn sender_options(settings: &Settings, gateway: &dyn SmsGateway, limit: bool) -> SenderOptions {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "settle".into());
    SenderOptions {
        worker: format!("{host}:{}", std::process::id()),
        batch: 200,
        concurrency: 16,
        lease: chrono::Duration::seconds(settings.outbox_lease_secs.max(1) as i64),
        max_attempts: 5,
        from: settings.sms_from.clone(),
        status_callback: (gateway.name() == "twilio").then(|| {
            format!(
                "{}/webhooks/twilio/status",
                settings.public_url.trim_end_matches('/')
            )
        }),
        // The demo transport sends nowhere: nothing to pace.
        per_second: NonZeroU32::new(settings.sms_per_second)
            .filter(|_| limit && gateway.name() != "demo"),
    }
}

/// How a pass sends: texts and Telegram messages, each through its transport.
pub struct Senders<'a> {
    /// The SMS transport and its options.
    pub sms: (&'a dyn SmsGateway, &'a SenderOptions),
    /// The Telegram transport and its options.
    pub chat: (&'a dyn ChatGateway, &'a SenderOptions),
}

/// One messaging pass: a scheduling run, then the outbox sent on every medium.
pub async fn pass(accounts: &Accounts, run: &RunOptions, send: &Senders<'_>) -> anyhow::Result<()> {
    // Sending goes on even when the run fails: answers and opt-out confirmations must
    // not wait for a scheduling problem to be fixed.
    let report = accounts.run_schedule(run).await;
    let sent = accounts.send_outbox(send.sms.0, send.sms.1).await?;
    let chats = accounts.send_chats(send.chat.0, send.chat.1).await?;
    let report = report?;
    let moved = |s: &accounts::messaging::SendReport| s.sent + s.failed + s.review + s.abandoned;
    if report.decided > 0 || moved(&sent) + moved(&chats) > 0 {
        tracing::info!(?report, ?sent, ?chats, "messaging pass");
    }
    Ok(())
}

/// Runs a messaging pass every `messaging_interval_secs`, until the process ends.
pub async fn run_worker(
    accounts: Accounts,
    gateway: Arc<dyn SmsGateway>,
    chat: Box<dyn ChatGateway>,
    settings: Settings,
) {
    let run = run_options(&settings);
    let send = sender_options(&settings, gateway.as_ref(), true);
    let chat_send = crate::telegram::sender_options(&settings);
    let mut tick =
        tokio::time::interval(Duration::from_secs(settings.messaging_interval_secs.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let senders = Senders {
            sms: (gateway.as_ref(), &send),
            chat: (chat.as_ref(), &chat_send),
        };
        if let Err(e) = pass(&accounts, &run, &senders).await {
            tracing::error!("messaging worker: {e:#}");
        }
    }
}

#[derive(Clone)]
struct TwilioHook {
    accounts: Accounts,
    token: SecretString,
    public_url: String,
    links: LinkSettings,
}

/// Twilio's webhooks (only when Twilio is configured): replies and delivery reports.
pub fn twilio_router(accounts: Accounts, settings: &Settings) -> Router {
    let Some(token) = settings.twilio_auth_token.clone() else {
        return Router::new();
    };
    Router::new()
        .route("/webhooks/twilio/sms", post(twilio_inbound))
        .route("/webhooks/twilio/status", post(twilio_status))
        .with_state(TwilioHook {
            accounts,
            token,
            public_url: settings.public_url.clone(),
            links: link_settings(settings),
        })
}

/// Checks `X-Twilio-Signature` over the URL Twilio requested (the public address, so a
/// proxy in front changes nothing) and the form parameters.
fn verified(
    hook: &TwilioHook,
    uri: &OriginalUri,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> bool {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = settle_twilio::public_url(&hook.public_url, path);
    let header = headers
        .get(settle_twilio::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    match settle_twilio::verify_signature(&url, params, header, &hook.token) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("twilio webhook refused: {e}");
            false
        }
    }
}

fn refused() -> Response {
    (StatusCode::FORBIDDEN, "invalid signature").into_response()
}

const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// A reply from a debtor. Answers go through the compliance engine and the outbox, so
/// the TwiML response is always empty.
async fn twilio_inbound(
    State(hook): State<TwilioHook>,
    uri: OriginalUri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    if !verified(&hook, &uri, &headers, &params) {
        return refused();
    }
    let sms = match settle_twilio::parse_inbound(&params) {
        Ok(sms) => sms,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    let inbound = InboundSms {
        provider_id: Some(sms.provider_id),
        from: sms.from,
        body: sms.body,
    };
    match hook.accounts.receive_sms(&inbound, &hook.links).await {
        Ok(_) => ([("content-type", "text/xml")], EMPTY_TWIML).into_response(),
        Err(e) => {
            tracing::error!("inbound sms not recorded: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

/// A delivery report: sent, delivered, undelivered or failed (a bounce).
async fn twilio_status(
    State(hook): State<TwilioHook>,
    uri: OriginalUri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    if !verified(&hook, &uri, &headers, &params) {
        return refused();
    }
    let status = match settle_twilio::parse_status_callback(&params) {
        Ok(s) => s,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    use settle_twilio::DeliveryState as D;
    let state = match &status.status {
        D::Queued => "queued",
        D::Sent => "sent",
        D::Delivered => "delivered",
        D::Undelivered => "undelivered",
        D::Failed => "failed",
        D::Other(other) => other.as_str(),
    };
    // The outbox id Settle put in the callback URL (signed by Twilio with the rest).
    let outbox = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("outbox=")))
        .and_then(|v| v.parse::<i64>().ok());
    match hook
        .accounts
        .record_delivery(
            outbox,
            &status.provider_id,
            state,
            status.error_code.as_deref(),
        )
        .await
    {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, "no message with that sid").into_response(),
        Err(e) => {
            tracing::error!("delivery report not recorded: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

/// The demo phone (only with the demo transport): every text the demo transport "sent",
/// newest first, and a box to answer as the debtor.
pub fn demo_phone_router(settings: &Settings) -> Router<Accounts> {
    let links = link_settings(settings);
    Router::new().route(
        "/demo/phone",
        get(demo_phone).post(move |state, form| demo_reply(state, form, links.clone())),
    )
}

#[derive(Deserialize)]
struct PhoneQuery {
    to: Option<String>,
    sent: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Links in a message, made clickable.
fn linkify(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let w = escape(word);
            if word.starts_with("http://") || word.starts_with("https://") {
                format!("<a href=\"{w}\">{w}</a>")
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn demo_phone(State(accounts): State<Accounts>, Query(q): Query<PhoneQuery>) -> Response {
    let to = q.to.filter(|t| !t.is_empty());
    let (messages, inbound) = match (
        accounts.recent_outbox(to.as_deref(), 50).await,
        accounts.inbox(false, 50).await,
    ) {
        (Ok(m), Ok(i)) => (m, i),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!("demo phone: {e}");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let rows: String = messages
        .iter()
        .map(|m| {
            format!(
                "<li data-testid=\"sms\" data-to=\"{to}\"><p class=\"meta\">To {to} · {at} · {status}</p>\
                 <p class=\"body\">{body}</p></li>",
                to = escape(&m.recipient),
                at = m.created_at.format("%Y-%m-%d %H:%M UTC"),
                status = m.status.as_str(),
                body = linkify(&m.body),
            )
        })
        .collect();
    let replies: String = inbound
        .iter()
        .filter(|m| to.as_deref().is_none_or(|t| t == m.sender))
        .map(|m| {
            format!(
                "<li data-testid=\"reply\"><p class=\"meta\">From {from} · {intent}</p>\
                 <p class=\"body\">{body}</p><p>{action}</p></li>",
                from = escape(&m.sender),
                intent = escape(&m.intent),
                body = escape(&m.body),
                action = escape(&m.action),
            )
        })
        .collect();
    let flash = match q.sent.as_deref() {
        Some(intent) => format!(
            "<p role=\"status\" data-testid=\"flash\">Reply received ({}).</p>",
            escape(intent)
        ),
        None => String::new(),
    };
    let to_value = escape(to.as_deref().unwrap_or(""));
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Demo phone · Settle</title><link rel=\"stylesheet\" href=\"/pkg/settle.css\"></head>\
         <body><main id=\"main\" class=\"page\"><h1>Demo phone</h1>\
         <p>Texts the demo transport would have sent. Nothing leaves this machine.</p>{flash}\
         <form method=\"post\" action=\"/demo/phone\" class=\"card\"><h2>Reply as the debtor</h2>\
         <label for=\"from\">From number</label><input id=\"from\" name=\"from\" value=\"{to_value}\" required>\
         <label for=\"body\">Message</label><input id=\"body\" name=\"body\" required>\
         <button type=\"submit\">Send reply</button></form>\
         <h2>Messages sent</h2><ol class=\"messages\">{rows}</ol>\
         <h2>Replies received</h2><ol class=\"messages\">{replies}</ol></main></body></html>"
    ))
    .into_response()
}

#[derive(Deserialize)]
struct DemoReply {
    from: String,
    body: String,
}

async fn demo_reply(
    State(accounts): State<Accounts>,
    Form(reply): Form<DemoReply>,
    links: LinkSettings,
) -> Response {
    let from = reply.from.trim().to_string();
    let sms = InboundSms {
        provider_id: None,
        from: from.clone(),
        body: reply.body,
    };
    match accounts.receive_sms(&sms, &links).await {
        Ok(outcome) => Redirect::to(&format!(
            "/demo/phone?to={}&sent={}",
            urlencode(&from),
            outcome.intent
        ))
        .into_response(),
        Err(e) => {
            tracing::error!("demo reply: {e}");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
