//! The webhook sender: posts each event to the agency endpoints that want it, signed with
//! the endpoint's secret, and retries with backoff until a 2xx or ten attempts. Several
//! senders (servers and workers on one PostgreSQL) share the work without sending a
//! delivery twice at once; a sender that dies mid-call leaves it to be retried after its
//! lease, so an event may arrive twice but is never lost (receivers dedupe on its id).
//!
//! An endpoint is an address an API key holder chose, so unless the installation allows it
//! (`webhook_private_addresses`), nothing is sent to loopback, private, link-local or
//! otherwise non-public addresses: checked when an endpoint is added, and again at each
//! connection (by the resolver, so a name that later resolves inward is refused too).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
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
/// How long a claim holds a delivery before another sender may retry it: longer than the
/// slowest batch (every wave of `PARALLEL` timing out) with a minute to spare.
const LEASE_SECS: i64 =
    (BATCH as u64).div_ceil(PARALLEL as u64) as i64 * TIMEOUT.as_secs() as i64 + 60;

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

/// True for an address on the public internet: not loopback, private (RFC 1918, unique
/// local), shared (RFC 6598), link-local (cloud metadata services live there), reserved,
/// benchmarking, unspecified, multicast, broadcast or documentation; an IPv6 address that
/// carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by that IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                ))
            };
            if let Some(v4) = v6.to_ipv4() {
                // Mapped (::ffff:a.b.c.d) and compatible (::a.b.c.d), and :: and ::1.
                return is_public(IpAddr::V4(v4));
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2]));
            }
            !(v6.is_multicast()
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[..4] == [0x100, 0, 0, 0])
        }
    }
}

/// Why `url` may not receive deliveries, when its host is an address that is not public
/// (names are checked when they are resolved).
pub fn refused_address(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let ip: IpAddr = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    (!is_public(ip)).then(|| format!("{ip} is not a public address"))
}

/// A resolver that drops every address that is not public, so a name pointed (or later
/// re-pointed) at an internal address is never connected to.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client deliveries go through: no redirects (a receiver that moved must be
/// updated, not followed), a short timeout, and only public addresses unless
/// `private_addresses`.
pub fn client(private_addresses: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("Settle-Webhooks/", env!("CARGO_PKG_VERSION")));
    // Without the setting, no proxy either: a proxy would resolve and connect to the
    // endpoint itself, out of this resolver's sight.
    let builder = if private_addresses {
        builder
    } else {
        builder.no_proxy().dns_resolver(Arc::new(PublicOnly))
    };
    builder
        .build()
        .expect("a client with no custom TLS roots builds")
}

/// Claims and sends every due delivery once; returns how many were attempted.
pub async fn pass(
    accounts: &Accounts,
    client: &reqwest::Client,
    private_addresses: bool,
) -> accounts::Result<usize> {
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
            .map(|d| deliver(accounts, client, d, private_addresses))
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
    private_addresses: bool,
) -> accounts::Result<()> {
    if !private_addresses {
        let refused = match reqwest::Url::parse(&delivery.url) {
            Ok(url) => refused_address(&url),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = refused {
            return accounts
                .finish_webhook_attempt(delivery.id, delivery.attempt, None, Some(&why))
                .await;
        }
    }
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
            settings.webhook_private_addresses,
        ));
    } else {
        tracing::info!("webhook deliveries are off (webhook_interval_secs = 0)");
    }
}

/// Sends deliveries every `interval` until the process stops.
pub async fn run_worker(accounts: Accounts, interval: Duration, private_addresses: bool) {
    let client = client(private_addresses);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = pass(&accounts, &client, private_addresses).await {
            tracing::warn!("webhook pass failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_receive_deliveries() {
        for inward in [
            "http://127.0.0.1:8080/x",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::a00:7]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:a00:7::1]/",
            "http://[fec0::1]/",
            "http://[2001:db8::1]/",
            "http://192.0.0.8/",
            "http://198.18.0.1/",
            "http://240.1.2.3/",
        ] {
            let url = reqwest::Url::parse(inward).unwrap();
            assert!(refused_address(&url).is_some(), "{inward}");
        }
        for outward in [
            "https://hooks.agency.example/settle",
            "https://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "https://[64:ff9b::808:808]/",
            "https://[2002:808:808::1]/",
        ] {
            let url = reqwest::Url::parse(outward).unwrap();
            assert_eq!(refused_address(&url), None, "{outward}");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_inward_is_not_connected_to() {
        let client = client(false);
        let err = client
            .post("http://localhost:9/hook")
            .send()
            .await
            .unwrap_err();
        assert!(format!("{err:?}").contains("no public address"), "{err:?}");
    }

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
