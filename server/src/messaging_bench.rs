//! `messages bench`: a scheduling run over many generated accounts (time and peak memory
//! of the run alone, in a child process), and sending throughput to a local fake Twilio
//! with the per-sender limit lifted. Prints a Markdown table.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use axum::routing::post;
use axum::Router;
use chrono::{Duration, Utc};
use clap::Args;
use tokio::process::Command;

/// Arguments of `messages bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Accounts in the scheduling run (each due for its first message).
    #[arg(long, default_value_t = 1_000_000)]
    pub accounts: u64,
    /// Messages sent to the fake provider.
    #[arg(long, default_value_t = 20_000)]
    pub send: u64,
    /// A PostgreSQL URL to run the scheduling run on as well (a fresh schema is made and
    /// dropped).
    #[arg(long, env = "SETTLE_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
    /// Where to write the Markdown table (it is always printed).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

struct Child {
    stdout: String,
    stderr: String,
}

async fn settle(args: &[&str], env: &[(&str, String)]) -> anyhow::Result<Child> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(args).env("SETTLE_LOG_LEVEL", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .await
        .with_context(|| format!("settle {args:?}"))?;
    let child = Child {
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    };
    if !out.status.success() {
        bail!("settle {args:?} failed: {}", child.stderr);
    }
    Ok(child)
}

/// A number after `label` in the child's summary line.
fn figure(stderr: &str, label: &str) -> Option<f64> {
    let at = stderr.rfind(label)? + label.len();
    stderr[at..].split_whitespace().next()?.parse().ok()
}

async fn import(dir: &Path, rows: u64, url: &str) -> anyhow::Result<()> {
    let file = dir.join(format!("placements-{rows}.csv"));
    accounts::demo::write_generated_csv(std::fs::File::create(&file)?, rows)?;
    settle(
        &["import", &file.display().to_string()],
        &[("SETTLE_DATABASE_URL", url.to_string())],
    )
    .await?;
    std::fs::remove_file(&file)?;
    Ok(())
}

struct Run {
    seconds: f64,
    peak_mib: f64,
    queued: u64,
}

/// One scheduling run in a child process, at a lawful hour everywhere in the US.
async fn schedule(url: &str, clock: &str) -> anyhow::Result<Run> {
    let child = settle(
        &["messages", "run", "--no-send"],
        &[
            ("SETTLE_DATABASE_URL", url.to_string()),
            ("SETTLE_CLOCK_START", clock.to_string()),
        ],
    )
    .await?;
    let report: serde_json::Value = serde_json::from_str(child.stdout.trim())?;
    Ok(Run {
        seconds: figure(&child.stderr, "schedule ").unwrap_or(f64::NAN),
        peak_mib: figure(&child.stderr, "peak memory ").unwrap_or(f64::NAN),
        queued: report["schedule"]["queued"].as_u64().unwrap_or(0),
    })
}

/// A fake Twilio that takes every message: counts them and answers like Twilio.
async fn fake_twilio() -> anyhow::Result<(String, Arc<AtomicU64>)> {
    let count = Arc::new(AtomicU64::new(0));
    let seen = count.clone();
    let app = Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        post(move || {
            let n = seen.fetch_add(1, Ordering::Relaxed);
            async move {
                (
                    axum::http::StatusCode::CREATED,
                    [("content-type", "application/json")],
                    format!("{{\"sid\":\"SM{n:032x}\",\"status\":\"queued\"}}"),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}"), count))
}

/// Runs the benchmark and prints the table.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Tomorrow 18:00 UTC: 13:00 in New York, 08:00 in Honolulu; every account is due.
    let clock = format!(
        "{}T18:00:00Z",
        (Utc::now() + Duration::days(1)).date_naive()
    );
    let mut rows = Vec::new();

    let url = format!("sqlite:{}", dir.path().join("schedule.db").display());
    let started = Instant::now();
    import(dir.path(), args.accounts, &url).await?;
    eprintln!(
        "placed {} accounts in {:.1}s",
        args.accounts,
        started.elapsed().as_secs_f64()
    );
    let r = schedule(&url, &clock).await?;
    rows.push(format!(
        "| SQLite | scheduling run | {} accounts | {:.1} s | {:.0} accounts/s | {:.0} MiB | {} queued |",
        args.accounts,
        r.seconds,
        args.accounts as f64 / r.seconds,
        r.peak_mib,
        r.queued
    ));

    if let Some(pg) = &args.postgres {
        let schema = format!("msgbench_{}", std::process::id());
        let psql = |sql: String| {
            let mut c = Command::new("psql");
            c.arg(pg)
                .arg("-v")
                .arg("ON_ERROR_STOP=1")
                .arg("-q")
                .arg("-c")
                .arg(sql);
            c
        };
        let made = psql(format!("CREATE SCHEMA {schema}")).output().await?;
        if !made.status.success() {
            bail!("psql: {}", String::from_utf8_lossy(&made.stderr));
        }
        let sep = if pg.contains('?') { '&' } else { '?' };
        let pg_url = format!("{pg}{sep}options=-c%20search_path%3D{schema}");
        let outcome = async {
            import(dir.path(), args.accounts, &pg_url).await?;
            schedule(&pg_url, &clock).await
        }
        .await;
        let _ = psql(format!("DROP SCHEMA {schema} CASCADE")).output().await;
        let r = outcome?;
        rows.push(format!(
            "| PostgreSQL | scheduling run | {} accounts | {:.1} s | {:.0} accounts/s | {:.0} MiB | {} queued |",
            args.accounts,
            r.seconds,
            args.accounts as f64 / r.seconds,
            r.peak_mib,
            r.queued
        ));
    }

    let send_url = format!("sqlite:{}", dir.path().join("send.db").display());
    import(dir.path(), args.send, &send_url).await?;
    schedule(&send_url, &clock).await?;
    let (api, count) = fake_twilio().await?;
    // Each child's clock starts at the instant it is given: the sender's starts a minute
    // after the run's, past every row it queued.
    let send_clock = format!(
        "{}T18:01:00Z",
        (Utc::now() + Duration::days(1)).date_naive()
    );
    let child = settle(
        &["messages", "run", "--no-schedule", "--no-limit"],
        &[
            ("SETTLE_DATABASE_URL", send_url.clone()),
            ("SETTLE_CLOCK_START", send_clock),
            ("SETTLE_TWILIO_ACCOUNT_SID", "ACbench".into()),
            ("SETTLE_TWILIO_AUTH_TOKEN", "bench-token".into()),
            ("SETTLE_TWILIO_API_URL", api),
        ],
    )
    .await?;
    let seconds = figure(&child.stderr, "send ").unwrap_or(f64::NAN);
    let taken = count.load(Ordering::Relaxed);
    if taken == 0 {
        bail!("the fake provider took no message: {}", child.stdout.trim());
    }
    rows.push(format!(
        "| SQLite | sending to a fake Twilio (limit lifted) | {} messages | {:.1} s | {:.0} messages/s | {:.0} MiB | {} taken by the fake |",
        args.send,
        seconds,
        taken as f64 / seconds,
        figure(&child.stderr, "peak memory ").unwrap_or(f64::NAN),
        taken
    ));

    let mut table =
        format!(
        "Messaging, {} cores\n\n| engine | what | size | time | rate | peak memory | result |\n\
         |---|---|---:|---:|---:|---:|---|\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    for r in rows {
        table.push_str(&r);
        table.push('\n');
    }
    println!("{table}");
    if let Some(out) = args.out {
        std::fs::write(&out, &table).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
