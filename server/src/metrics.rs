//! `/metrics` for Prometheus (OpenMetrics text): requests and their latency by kind of
//! route, the compliance decisions this process made (by verdict, and the rules behind
//! defers and denials), the payment events it applied, and the shared queues read from the
//! database at each scrape (outbox depth, webhook backlog and lag). Counters are per
//! process; Prometheus adds the processes of a multi-process layout up. A worker process
//! serves them on `metrics_listen`.

use std::sync::Arc;
use std::time::Instant;

use accounts::Accounts;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// A request's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// Which part of Settle answered (see [`class`]).
    class: &'static str,
    /// The method, or `other`.
    method: &'static str,
    /// The status code.
    status: u16,
}

/// A latency's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabel {
    class: &'static str,
}

/// An outbox status, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

/// The registry and the metrics the server itself keeps.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<ClassLabel, Histogram>,
    outbox: Family<StatusLabel, Gauge>,
    webhooks_due: Gauge,
    webhook_lag: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Metrics {
    /// A registry with every metric registered, the backend's decision counters included.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("settle");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency =
            Family::<ClassLabel, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        let outbox = Family::<StatusLabel, Gauge>::default();
        let webhooks_due = Gauge::default();
        let webhook_lag = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by kind of route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by kind of route",
            latency.clone(),
        );
        registry.register(
            "compliance_decisions",
            "Compliance decisions made by this process, by verdict",
            accounts::metrics::DECISIONS.clone(),
        );
        registry.register(
            "compliance_findings",
            "Rules behind this process's defers and denials, by verdict and reason code",
            accounts::metrics::FINDINGS.clone(),
        );
        registry.register(
            "payment_events",
            "Payment processor events this process applied, by kind",
            accounts::metrics::PAYMENT_EVENTS.clone(),
        );
        registry.register(
            "payment_amount_minor",
            "Money moved by those events, in minor units (cents)",
            accounts::metrics::PAYMENT_MINOR.clone(),
        );
        registry.register(
            "outbox_messages",
            "Outbox messages now pending, being sent, or left for review (all processes)",
            outbox.clone(),
        );
        registry.register(
            "webhook_deliveries_due",
            "Webhook deliveries due now and not yet delivered (all processes)",
            webhooks_due.clone(),
        );
        registry.register(
            "webhook_lag_seconds",
            "How long the oldest due webhook delivery has waited (0 when none)",
            webhook_lag.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            latency,
            outbox,
            webhooks_due,
            webhook_lag,
        })
    }

    /// The text of every metric, the shared queues read now.
    async fn render(&self, accounts: &Accounts) -> accounts::Result<String> {
        let depths = accounts.queue_depths().await?;
        for (status, n) in [
            ("pending", depths.outbox_pending),
            ("sending", depths.outbox_sending),
            ("review", depths.outbox_review),
        ] {
            self.outbox.get_or_create(&StatusLabel { status }).set(n);
        }
        self.webhooks_due.set(depths.webhooks_due);
        let lag = depths
            .webhooks_oldest_due
            .map_or(0, |t| (accounts.clock().now() - t).num_seconds().max(0));
        self.webhook_lag.set(lag);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        Ok(text)
    }
}

/// Which part of Settle a path belongs to: a handful of values, so the labels stay few
/// whatever paths clients send.
fn class(path: &str) -> &'static str {
    // The portal's own server functions live under /api/ too; the agency API is /api/v1.
    if path.starts_with("/api/v1/") {
        return "api";
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "agency" => "console",
        "pkg" => "asset",
        "webhooks" => "webhook",
        "healthz" | "readyz" | "metrics" => "ops",
        _ => "portal",
    }
}

fn method(m: &axum::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        _ => "other",
    }
}

/// Counts and times every request, to its response's head (a streamed page's body may
/// still be flowing).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let class = class(request.uri().path());
    let method = method(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics
        .latency
        .get_or_create(&ClassLabel { class })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            class,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// `GET /metrics`.
pub fn router(accounts: Accounts, metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || async move {
            match metrics.render(&accounts).await {
                Ok(text) => (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    text,
                )
                    .into_response(),
                Err(e) => {
                    tracing::warn!("metrics: {e}");
                    (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
                }
            }
        }),
    )
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `addr` for a process without the web
/// server (`settle worker`), until the process stops.
pub async fn serve_for_worker(
    accounts: Accounts,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "worker metrics on http://{}/metrics",
        listener.local_addr()?
    );
    let app = router(accounts.clone(), Metrics::new()).merge(crate::serve::health_router(accounts));
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_into_a_few_classes() {
        assert_eq!(class("/api/v1/accounts"), "api");
        assert_eq!(class("/api/verify"), "portal");
        assert_eq!(class("/agency/disputes/7"), "console");
        assert_eq!(class("/pkg/settle.css"), "asset");
        assert_eq!(class("/webhooks/twilio"), "webhook");
        assert_eq!(class("/metrics"), "ops");
        assert_eq!(class("/l/AbC123"), "portal");
        assert_eq!(class("/"), "portal");
    }
}
