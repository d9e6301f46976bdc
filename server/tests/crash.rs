//! The worker killed with SIGKILL at random points of a scheduling and sending run: after a
//! restart no text went out twice, and every due message was sent or marked for review.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, State};
use axum::routing::post;
use axum::Router;
use rand::Rng;
use tokio::process::Command;

/// A lawful hour everywhere in the US (13:00 in New York, 08:00 in Honolulu).
const CLOCK: &str = "2026-12-01T18:00:00Z";
const ACCOUNTS: u64 = 300;

type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A fake Twilio that takes every message after a short delay (so kills land mid-call)
/// and records what it took.
async fn fake_twilio() -> (String, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(
                |State(seen): State<Received>, Form(form): Form<HashMap<String, String>>| async move {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        seen.push((form["To"].clone(), form["Body"].clone()));
                        seen.len()
                    };
                    (
                        axum::http::StatusCode::CREATED,
                        [("content-type", "application/json")],
                        format!("{{\"sid\":\"SM{n:032x}\",\"status\":\"queued\"}}"),
                    )
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), received)
}

/// Every process's clock reads `CLOCK` plus the real time since the test began, so the
/// processes agree on "now" (leases are compared across them).
fn clock(began: std::time::Instant) -> String {
    let start: chrono::DateTime<chrono::Utc> = CLOCK.parse().unwrap();
    (start + began.elapsed()).to_rfc3339()
}

fn settle(db: &str, api: &str, began: std::time::Instant) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_settle"));
    c.env("SETTLE_DATABASE_URL", db)
        .env("SETTLE_LOG_LEVEL", "warn")
        .env("SETTLE_CLOCK_START", clock(began))
        .env("SETTLE_TWILIO_ACCOUNT_SID", "ACcrashtest")
        .env("SETTLE_TWILIO_AUTH_TOKEN", "crash-test-token")
        .env("SETTLE_TWILIO_API_URL", api)
        .env("SETTLE_SMS_PER_SECOND", "0")
        .env("SETTLE_MESSAGING_INTERVAL_SECS", "1")
        .env("SETTLE_OUTBOX_LEASE_SECS", "1")
        .env_remove("SETTLE_CONFIG")
        .kill_on_drop(true);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_at_random_points_never_sends_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("settle.db").display());
    let csv = dir.path().join("placements.csv");
    let (api, received) = fake_twilio().await;
    let began = std::time::Instant::now();
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(settle(&db, &api, began)
        .args(["bench", "--rows", &ACCOUNTS.to_string(), "--generate-only"])
        .arg(&csv)
        .output()
        .await
        .unwrap());
    // Placed an hour before the workers' clock starts, so every account is due.
    ok(settle(&db, &api, began)
        .env("SETTLE_CLOCK_START", "2026-12-01T17:00:00Z")
        .arg("import")
        .arg(&csv)
        .output()
        .await
        .unwrap());

    let mut rng = rand::rng();
    for _ in 0..8 {
        let mut worker = settle(&db, &api, began).arg("worker").spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(rng.random_range(60..450))).await;
        worker.kill().await.unwrap(); // SIGKILL
    }
    // Past the lease, a restarted worker finishes the run.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..2 {
        ok(settle(&db, &api, began)
            .args(["messages", "run", "--no-limit"])
            .output()
            .await
            .unwrap());
    }

    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT recipient, body, status FROM outbox")
            .fetch_all(&pool)
            .await
            .unwrap();
    // Each account was decided once by the run; each allow produced exactly one message.
    let allowed: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT account_id, COUNT(*) FROM compliance_decisions
         WHERE decision = 'allow' GROUP BY account_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        allowed.iter().all(|(_, n)| *n == 1),
        "an account decided twice"
    );
    assert_eq!(allowed.len(), rows.len());
    let undecided: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM accounts a WHERE NOT EXISTS
           (SELECT 1 FROM compliance_decisions d WHERE d.account_id = a.id)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(undecided, 0, "every due account was decided");
    assert!(rows.len() as u64 > ACCOUNTS / 2, "{} messages", rows.len());

    let received = received.lock().unwrap().clone();
    let mut seen = std::collections::HashSet::new();
    for r in &received {
        assert!(seen.insert(r.clone()), "sent twice: {r:?}");
    }
    for (to, body, status) in &rows {
        let got = received.iter().any(|(t, b)| t == to && b == body);
        match status.as_str() {
            "sent" => assert!(got, "a sent row the provider never got: {body}"),
            // Cut off between the claim and the answer: the provider may or may not have it.
            "review" => {}
            other => panic!("a row left {other}: {body}"),
        }
    }
    for (to, body) in &received {
        assert!(
            rows.iter().any(|(t, b, _)| t == to && b == body),
            "the provider got a message that is not in the outbox"
        );
    }
    eprintln!(
        "{} messages: {} sent, {} for review",
        rows.len(),
        rows.iter().filter(|r| r.2 == "sent").count(),
        rows.iter().filter(|r| r.2 == "review").count()
    );
}
