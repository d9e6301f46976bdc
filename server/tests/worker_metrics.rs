//! A `settle worker` process with `metrics_listen` answers `/readyz`, `/healthz` and
//! `/metrics` (the shared queues read from its database) on its own address.

use std::time::Duration;

use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_its_metrics_and_health() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("settle.db").display());
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut worker = Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("worker")
        .env("SETTLE_DATABASE_URL", &db)
        .env("SETTLE_METRICS_LISTEN", format!("127.0.0.1:{port}"))
        .env("SETTLE_LOG_LEVEL", "warn")
        .env("SETTLE_WEBHOOK_INTERVAL_SECS", "0")
        .env_remove("SETTLE_CONFIG")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = None;
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            ready = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready, Some(reqwest::StatusCode::OK));
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A worker that has decided nothing yet has no decision or payment samples: a
    // counter family appears with its first sample.
    for line in [
        "settle_outbox_messages{status=\"pending\"} 0",
        "settle_outbox_messages{status=\"review\"} 0",
        "settle_webhook_deliveries_due 0",
        "settle_webhook_lag_seconds 0",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    assert!(metrics.ends_with("# EOF\n"));
    worker.kill().await.unwrap();
}
