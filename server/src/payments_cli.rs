//! `settle payments`: reconciliation with Stripe, and the webhook ingest benchmark.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use accounts::payments::Applied;
use accounts::{Accounts, SystemClock};
use anyhow::{bail, Context};
use chrono::Utc;
use clap::Subcommand;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::settings::Settings;

/// Subcommands of `payments`.
#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Lists recent payments at Stripe and applies any the webhooks missed (safe to repeat).
    Reconcile {
        /// How far back to look, in hours.
        #[arg(long, default_value_t = 72)]
        since_hours: i64,
    },
    /// Measures webhook ingest: signed Stripe events verified, read and applied once, with
    /// repeated deliveries, on a fresh SQLite file (and PostgreSQL schema). Prints a
    /// Markdown table.
    Bench {
        /// Distinct events.
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Extra deliveries of already-sent events, as a share of `events`.
        #[arg(long, default_value_t = 0.25)]
        duplicates: f64,
        /// Deliveries handled at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// A PostgreSQL URL to measure as well (a fresh schema is made and dropped).
        #[arg(long)]
        postgres: Option<String>,
    },
}

/// Runs a `payments` subcommand.
pub async fn run(settings: &Settings, command: PaymentsCommand) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::Reconcile { since_hours } => reconcile(settings, since_hours).await,
        PaymentsCommand::Bench {
            events,
            duplicates,
            concurrency,
            postgres,
        } => {
            let dir = tempfile::tempdir()?;
            let sqlite = format!("sqlite:{}", dir.path().join("bench.db").display());
            let mut rows = vec![ingest("SQLite", &sqlite, events, duplicates, concurrency).await?];
            if let Some(pg) = postgres {
                let scratch = crate::bench::ScratchSchema::create(&pg, "paybench").await?;
                let row = ingest("PostgreSQL", &scratch.url, events, duplicates, concurrency).await;
                scratch.remove().await;
                rows.push(row?);
            }
            println!("| engine | deliveries | distinct | concurrency | seconds | deliveries/s |");
            println!("|---|---:|---:|---:|---:|---:|");
            for row in rows {
                println!("{row}");
            }
            Ok(())
        }
    }
}

async fn reconcile(settings: &Settings, since_hours: i64) -> anyhow::Result<()> {
    let accounts = crate::open(settings).await?;
    let gateway = crate::serve::gateway(settings)?;
    if gateway.name() != settle_stripe::PROCESSOR {
        bail!("no Stripe key is configured (SETTLE_STRIPE_SECRET_KEY): nothing to reconcile");
    }
    let since = Utc::now() - chrono::Duration::hours(since_hours.max(1));
    let events = gateway
        .recent_events(since)
        .await
        .context("listing payments at Stripe")?;
    let mut applied = 0;
    for e in &events {
        if accounts.apply_event(e).await? == Applied::Applied {
            applied += 1;
        }
    }
    println!(
        "{} succeeded payment(s) at Stripe since {since}; {applied} newly applied",
        events.len()
    );
    Ok(())
}

/// Delivers `events` signed events plus repeats to a fresh database at `url`, `concurrency`
/// at a time, checks each was applied once, and returns the table row.
async fn ingest(
    engine: &str,
    url: &str,
    events: usize,
    duplicates: f64,
    concurrency: usize,
) -> anyhow::Result<String> {
    const SECRET: &str = "whsec_bench";
    let accounts = Accounts::open(url, Arc::new(SystemClock)).await?;
    accounts.seed_demo().await?;
    let agency = accounts.agencies().await?[0].id;
    let mut ids = Vec::new();
    for n in 1..=36 {
        let r = domain::AccountRef::parse(&format!("DEMO-{}", 1000 + n))?;
        if let Some(a) = accounts.account_by_ref(agency, &r).await? {
            ids.push(a.id.0);
        }
    }
    let today = Utc::now().date_naive();
    let days =
        accounts::reports::Range::new(today - chrono::Days::new(1), today + chrono::Days::new(1))?;
    let collected =
        |r: accounts::reports::Report| r.collected_by_day.iter().map(|d| d.1).sum::<i64>();
    let before = collected(accounts.report(agency, days).await?);
    let now = Utc::now().timestamp();
    let mut rng = rand::rng();
    let mut expected = 0i64;
    let mut payloads: Vec<Arc<(String, String)>> = (0..events)
        .map(|i| {
            let account = ids[rng.random_range(0..ids.len())];
            let amount: i64 = rng.random_range(100..5_000);
            expected += amount;
            let payload = serde_json::json!({
                "id": format!("evt_bench_{i}"), "object": "event", "created": now,
                "livemode": false, "pending_webhooks": 1, "type": "payment_intent.succeeded",
                "data": {"object": {
                    "id": format!("pi_bench_{i}"), "object": "payment_intent", "amount": amount,
                    "amount_capturable": 0, "amount_received": amount,
                    "capture_method": "automatic", "confirmation_method": "automatic",
                    "created": now, "currency": "usd", "livemode": false,
                    "metadata": {"account_id": account.to_string()},
                    "payment_method_types": ["card"], "status": "succeeded"}}
            })
            .to_string();
            let sig = settle_stripe::sign(&payload, SECRET, now);
            Arc::new((payload, sig))
        })
        .collect();
    let extra = (events as f64 * duplicates) as usize;
    for _ in 0..extra {
        let again = payloads[rng.random_range(0..events)].clone();
        payloads.push(again);
    }
    payloads.shuffle(&mut rng);
    let gateway = settle_stripe::StripeGateway::new("sk_bench", "http://127.0.0.1:9")?;
    let queue = Arc::new(payloads);
    let next = Arc::new(AtomicUsize::new(0));
    let applied = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (queue, next, applied) = (queue.clone(), next.clone(), applied.clone());
            let (accounts, gateway) = (accounts.clone(), gateway.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = queue.get(i) else {
                        return Ok::<_, anyhow::Error>(());
                    };
                    let event =
                        settle_stripe::read_webhook(&gateway, &item.0, &item.1, SECRET).await?;
                    if accounts.apply_event(&event).await? == Applied::Applied {
                        applied.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let deliveries = queue.len();
    anyhow::ensure!(
        applied.load(Ordering::Relaxed) == events,
        "{} events applied, expected {events}",
        applied.load(Ordering::Relaxed)
    );
    let credited = collected(accounts.report(agency, days).await?) - before;
    anyhow::ensure!(
        credited == expected,
        "the ledger took {credited} cents, expected {expected}"
    );
    eprintln!(
        "{engine}: ledger credited {expected} cents, each payment once; {extra} repeated deliveries changed nothing"
    );
    accounts.close().await;
    Ok(format!(
        "| {engine} | {deliveries} | {events} | {concurrency} | {secs:.2} | {:.0} |",
        deliveries as f64 / secs
    ))
}
