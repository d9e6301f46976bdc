//! What the process-level tests share: the `settle` binary as a command, a fake Twilio that
//! records what it was sent, a PostgreSQL server of the test's own, and the checks that a
//! messaging run sent each message once.

// Each test binary uses part of this module.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::routing::post;
use axum::Router;
use tokio::process::Command;

/// A lawful hour everywhere in the US (13:00 in New York, 08:00 in Honolulu).
pub const CLOCK: &str = "2026-12-01T18:00:00Z";

/// What the fake Twilio took: (recipient, body), in arrival order.
pub type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A fake Twilio that takes every message after a short delay (so kills and restarts land
/// mid-call) and records what it took.
pub async fn fake_twilio() -> (String, Received) {
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
pub fn clock(began: Instant) -> String {
    let start: chrono::DateTime<chrono::Utc> = CLOCK.parse().unwrap();
    (start + began.elapsed()).to_rfc3339()
}

/// `settle` on database `db`, sending texts to the fake Twilio at `api`, with short
/// messaging intervals and leases.
pub fn settle(db: &str, api: &str, began: Instant) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_settle"));
    c.env("SETTLE_DATABASE_URL", db)
        .env("SETTLE_LOG_LEVEL", "error")
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

/// Panics with the command's standard error unless it succeeded.
pub fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Generates `n` placements and imports them into `db`, placed an hour before `CLOCK` so
/// every account is due; returns the placement file.
pub async fn place_accounts(db: &str, api: &str, began: Instant, dir: &Path, n: u64) -> PathBuf {
    let csv = dir.join("placements.csv");
    ok(settle(db, api, began)
        .args(["bench", "--rows", &n.to_string(), "--generate-only"])
        .arg(&csv)
        .output()
        .await
        .unwrap());
    ok(settle(db, api, began)
        .env("SETTLE_CLOCK_START", "2026-12-01T17:00:00Z")
        .arg("import")
        .arg(&csv)
        .output()
        .await
        .unwrap());
    csv
}

/// What a messaging run left in the database, read by the test on either engine.
pub struct RunOutcome {
    /// The outbox: (recipient, body, status).
    pub outbox: Vec<(String, String, String)>,
    /// Allow decisions per account.
    pub allowed: Vec<(i64, i64)>,
    /// Accounts with no decision at all.
    pub undecided: i64,
}

/// The same three queries on either engine's pool (sqlx pools are typed by engine).
macro_rules! read_outcome {
    ($pool:expr) => {
        RunOutcome {
            outbox: sqlx::query_as("SELECT recipient, body, status FROM outbox")
                .fetch_all($pool)
                .await
                .unwrap(),
            allowed: sqlx::query_as(
                "SELECT account_id, COUNT(*) FROM compliance_decisions
                 WHERE decision = 'allow' GROUP BY account_id",
            )
            .fetch_all($pool)
            .await
            .unwrap(),
            undecided: sqlx::query_scalar(
                "SELECT COUNT(*) FROM accounts a WHERE NOT EXISTS
                   (SELECT 1 FROM compliance_decisions d WHERE d.account_id = a.id)",
            )
            .fetch_one($pool)
            .await
            .unwrap(),
        }
    };
}

/// Reads a run's outcome from a PostgreSQL database.
pub async fn pg_outcome(pool: &sqlx::PgPool) -> RunOutcome {
    read_outcome!(pool)
}

/// Reads a run's outcome from a SQLite database.
pub async fn sqlite_outcome(pool: &sqlx::SqlitePool) -> RunOutcome {
    read_outcome!(pool)
}

/// The promises of a messaging run over `accounts` accounts, however its processes were
/// interrupted: every account decided, each allow produced one message, no text reached
/// the provider twice, every row marked sent reached it, the provider got nothing that is
/// not in the outbox, and every row ended sent or for review (cut off between the claim
/// and the answer, so nobody can know whether it went).
pub fn assert_sent_once(run: &RunOutcome, received: &Received, accounts: u64) {
    assert!(
        run.allowed.iter().all(|(_, n)| *n == 1),
        "an account decided twice"
    );
    assert_eq!(run.allowed.len(), run.outbox.len());
    assert_eq!(run.undecided, 0, "every due account was decided");
    assert!(
        run.outbox.len() as u64 > accounts / 2,
        "{} messages",
        run.outbox.len()
    );
    let received = received.lock().unwrap().clone();
    let mut seen = HashSet::new();
    for r in &received {
        assert!(seen.insert(r.clone()), "sent twice: {r:?}");
    }
    for (to, body, status) in &run.outbox {
        let got = received.iter().any(|(t, b)| t == to && b == body);
        match status.as_str() {
            "sent" => assert!(got, "a sent row the provider never got: {body}"),
            "review" => {}
            other => panic!("a row left {other}: {body}"),
        }
    }
    for (to, body) in &received {
        assert!(
            run.outbox.iter().any(|(t, b, _)| t == to && b == body),
            "the provider got a message that is not in the outbox"
        );
    }
    eprintln!(
        "{} messages: {} sent, {} for review",
        run.outbox.len(),
        run.outbox.iter().filter(|r| r.2 == "sent").count(),
        run.outbox.iter().filter(|r| r.2 == "review").count()
    );
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// A PostgreSQL server of the test's own: a fresh cluster in a temporary directory on a
/// free loopback port, so a test can stop and start it without touching the machine's
/// cluster or the other tests. Stopped when dropped.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    /// Makes and starts the cluster; `None` when the machine has no PostgreSQL server
    /// programs (a failure instead under `SETTLE_REQUIRE_POSTGRES=1`, as the test script
    /// sets).
    pub fn start() -> Option<PrivatePostgres> {
        let Some(bin) = server_programs() else {
            if std::env::var("SETTLE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("SETTLE_REQUIRE_POSTGRES=1 but no PostgreSQL server programs were found");
            }
            eprintln!("skipped: no PostgreSQL server programs (initdb) on this machine");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            // PostgreSQL refuses to run as root: the cluster belongs to `postgres`.
            let status = StdCommand::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the cluster directory");
        }
        let pg = PrivatePostgres {
            dir,
            bin,
            port: free_port(),
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        pg.up();
        Some(pg)
    }

    /// The superuser's URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once, as a crash or a power cut would (no checkpoint, clients
    /// cut off), then starts it again on the same port; it recovers from its log.
    pub fn crash_and_restart(&self, down_for: Duration) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        std::thread::sleep(down_for);
        self.up();
    }

    fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log.display().to_string(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// One of the server programs, run as `postgres` when the tests run as root.
    fn command(&self, program: &str, args: &[&str]) -> StdCommand {
        let path = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = StdCommand::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            StdCommand::new(path)
        };
        cmd.args(args);
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program, args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    StdCommand::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` (Debian's layout).
fn server_programs() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
