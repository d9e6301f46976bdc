//! The webhook sender: posts each event to the agency endpoints that want it, signed with
//! the endpoint's secret, and retries with backoff until a 2xx or ten attempts. Several
//! senders (servers and workers on one PostgreSQL) share the work without sending a
//! delivery twice at once; a sender that dies mid-call leaves it to be retried after its
//! lease, so an event may arrive twice but is never lost (receivers dedupe on its id).

use std::time::Duration;

use accounts::api::{ApiEvent, DueDelivery};
use accounts::Accounts;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::Sha256;

/// Deliveries claimed per pass.
const BATCH: i64 = 50;
/// Deliveries in flight at once.
const PARALLEL: usize = 8;
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claim holds a delivery before another sender may retry it.
const LEASE_SECS: i64 = 60;

/// The JSON body delivered for an event.
pub fn payload(event: &ApiEvent) -> serde_json::Value {
    json!({
        "id": event.id,
        "type": event.kind,
        "created_at": event.at,
        "data": {
            "account_id": event.account_id,
            "account_ref": event.account_ref,
            "object_id": event.object_id,
            "detail": event.detail,
            "amount": event.amount,
            "currency": event.currency,
        }
    })
}

/// The `Settle-Signature` header for `body` sent at `timestamp` (Unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256 over "<timestamp>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The HTTP client deliveries go through: no redirects (a receiver that moved must be
/// updated, not followed), a short timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("Settle-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with no custom TLS roots builds")
}

/// Claims and sends every due delivery once; returns how many were attempted.
pub async fn pass(accounts: &Accounts, client: &reqwest::Client) -> accounts::Result<usize> {
    let mut attempted = 0;
    loop {
        let due = accounts
            .claim_webhook_deliveries(BATCH, chrono::Duration::seconds(LEASE_SECS))
            .await?;
        if due.is_empty() {
            return Ok(attempted);
        }
        attempted += due.len();
        let results: Vec<accounts::Result<()>> = futures_util::stream::iter(due)
            .map(|d| deliver(accounts, client, d))
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        for r in results {
            r?;
        }
    }
}

async fn deliver(
    accounts: &Accounts,
    client: &reqwest::Client,
    delivery: DueDelivery,
) -> accounts::Result<()> {
    let body = payload(&delivery.event).to_string();
    let timestamp = accounts.clock().now().timestamp();
    let signed = signature(delivery.secret.expose_secret(), timestamp, body.as_bytes());
    let sent = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("settle-event-id", delivery.event.id.to_string())
        .header("settle-signature", signed)
        .body(body)
        .send()
        .await;
    let (status, error) = match sent {
        Ok(response) => {
            let status = response.status();
            let error = (!status.is_success()).then(|| format!("answered {status}"));
            (Some(status.as_u16()), error)
        }
        // Without the URL: it may carry a token the agency put in it.
        Err(e) => (None, Some(e.without_url().to_string())),
    };
    if let Some(e) = &error {
        tracing::info!(
            delivery = delivery.id,
            attempt = delivery.attempt,
            "webhook delivery failed: {e}"
        );
    }
    accounts
        .finish_webhook_attempt(delivery.id, delivery.attempt, status, error.as_deref())
        .await
}

/// Starts the sender unless `webhook_interval_secs` is 0.
pub fn spawn(accounts: &Accounts, settings: &crate::settings::Settings) {
    if settings.webhook_interval_secs > 0 {
        tokio::spawn(run_worker(
            accounts.clone(),
            Duration::from_secs(settings.webhook_interval_secs),
        ));
    } else {
        tracing::info!("webhook deliveries are off (webhook_interval_secs = 0)");
    }
}

/// Sends deliveries every `interval` until the process stops.
pub async fn run_worker(accounts: Accounts, interval: Duration) {
    let client = client();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = pass(&accounts, &client).await {
            tracing::warn!("webhook pass failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let s = signature("whsec_test", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(
            s,
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(s, signature("whsec_other", 1_700_000_000, br#"{"a":1}"#));
        assert_ne!(s, signature("whsec_test", 1_700_000_001, br#"{"a":1}"#));
    }
}
