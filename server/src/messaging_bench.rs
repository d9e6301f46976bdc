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

use crate::bench::{cores, figure, ScratchSchema};

/// Arguments of `messages bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Accounts in the scheduling run (each due for its first message).
    #[arg(long, default_value_t = 1_000_000)]
    pub accounts: u64,
    /// Accounts placed for the sending test; what one run queues for them is sent.
    #[arg(long, default_value_t = 20_000)]
    pub send: u64,
    /// A PostgreSQL URL to measure the run and the sending on as well (fresh schemas are
    /// made and dropped).
    #[arg(long)]
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

/// Sends the messages queued in `url` (for `count` accounts) to a fake Twilio with the
/// per-sender limit lifted; returns the table row.
async fn send(
    engine: &str,
    url: &str,
    count: u64,
    day: chrono::NaiveDate,
) -> anyhow::Result<String> {
    let (api, taken) = fake_twilio().await?;
    // Each child's clock starts at the instant it is given: the sender's starts a minute
    // after the run's, past every row it queued.
    let child = settle(
        &["messages", "run", "--no-schedule", "--no-limit"],
        &[
            ("SETTLE_DATABASE_URL", url.to_string()),
            ("SETTLE_CLOCK_START", format!("{day}T18:01:00Z")),
            ("SETTLE_TWILIO_ACCOUNT_SID", "ACbench".into()),
            ("SETTLE_TWILIO_AUTH_TOKEN", "bench-token".into()),
            ("SETTLE_TWILIO_API_URL", api),
        ],
    )
    .await?;
    let seconds = figure(&child.stderr, "send ").unwrap_or(f64::NAN);
    let taken = taken.load(Ordering::Relaxed);
    if taken == 0 {
        bail!("the fake provider took no message: {}", child.stdout.trim());
    }
    Ok(format!(
        "| {engine} | sending to a fake Twilio (limit lifted) | {count} accounts | {seconds:.1} s | {:.0} messages/s | {:.0} MiB | {taken} taken by the fake |",
        taken as f64 / seconds,
        figure(&child.stderr, "peak memory ").unwrap_or(f64::NAN),
    ))
}

/// On one engine: the scheduling run over `args.accounts` accounts placed in `database`, and
/// the sending of what a run queues for `args.send` accounts placed in `send_database`.
async fn engine_rows(
    engine: &str,
    args: &BenchArgs,
    dir: &Path,
    day: chrono::NaiveDate,
    database: &str,
    send_database: &str,
) -> anyhow::Result<Vec<String>> {
    let clock = format!("{day}T18:00:00Z");
    let started = Instant::now();
    import(dir, args.accounts, database).await?;
    eprintln!(
        "{engine}: placed {} accounts in {:.1}s",
        args.accounts,
        started.elapsed().as_secs_f64()
    );
    let r = schedule(database, &clock).await?;
    let schedule_row = format!(
        "| {engine} | scheduling run | {} accounts | {:.1} s | {:.0} accounts/s | {:.0} MiB | {} queued |",
        args.accounts,
        r.seconds,
        args.accounts as f64 / r.seconds,
        r.peak_mib,
        r.queued
    );
    import(dir, args.send, send_database).await?;
    schedule(send_database, &clock).await?;
    let send_row = send(engine, send_database, args.send, day).await?;
    Ok(vec![schedule_row, send_row])
}

/// Runs the benchmark and prints the table.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // Tomorrow 18:00 UTC: 13:00 in New York, 08:00 in Honolulu; every account is due.
    let day = (Utc::now() + Duration::days(1)).date_naive();
    let sqlite = |name: &str| format!("sqlite:{}", dir.path().join(name).display());
    let mut rows = engine_rows(
        "SQLite",
        &args,
        dir.path(),
        day,
        &sqlite("schedule.db"),
        &sqlite("send.db"),
    )
    .await?;

    if let Some(pg) = &args.postgres {
        let run_schema = ScratchSchema::create(pg, "msgbench").await?;
        let send_schema = match ScratchSchema::create(pg, "msgsend").await {
            Ok(s) => s,
            Err(e) => {
                run_schema.remove().await;
                return Err(e);
            }
        };
        let outcome = engine_rows(
            "PostgreSQL",
            &args,
            dir.path(),
            day,
            &run_schema.url,
            &send_schema.url,
        )
        .await;
        run_schema.remove().await;
        send_schema.remove().await;
        rows.extend(outcome?);
    }

    let mut table = format!(
        "Messaging, {} cores\n\n| engine | what | size | time | rate | peak memory | result |\n\
         |---|---|---:|---:|---:|---:|---|\n",
        cores()
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
