//! `settle worker` and `settle messages`: the background worker on its own, one messaging
//! pass on demand, and the inbox.

use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;

use crate::settings::Settings;

/// Subcommands of `messages`.
#[derive(Debug, Subcommand)]
pub enum MessagesCommand {
    /// One scheduling run and one sending pass now; prints what they did as JSON (and the
    /// time and peak memory on standard error).
    Run {
        /// Skip the scheduling run.
        #[arg(long)]
        no_schedule: bool,
        /// Skip sending.
        #[arg(long)]
        no_send: bool,
        /// Lift the per-sender rate limit (benchmarks against a fake provider).
        #[arg(long)]
        no_limit: bool,
    },
    /// Lists inbound messages the agency has to read.
    Inbox {
        /// Show every inbound message, not only open ones.
        #[arg(long)]
        all: bool,
    },
    /// Prints an agency's cadence and texts as JSON (or those a creditor's accounts follow),
    /// or saves new ones from a JSON file (checked: unknown template variables and
    /// reminders without a link are refused).
    Cadence {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// One creditor's own cadence instead of the agency's.
        #[arg(long, default_value = "")]
        creditor: String,
        /// A JSON file with the cadence to save (the format `--agency X` prints).
        #[arg(long)]
        set: Option<std::path::PathBuf>,
    },
    /// Measures a scheduling run and sending to a local fake provider; prints Markdown.
    Bench(crate::messaging_bench::BenchArgs),
}

/// Runs a `messages` subcommand.
pub async fn run(settings: &Settings, command: MessagesCommand) -> anyhow::Result<()> {
    match command {
        MessagesCommand::Run {
            no_schedule,
            no_send,
            no_limit,
        } => {
            let accounts = crate::open(settings).await?;
            let gateway = crate::messaging::sms_gateway(settings)?;
            let started = std::time::Instant::now();
            let run = if no_schedule {
                None
            } else {
                Some(
                    accounts
                        .run_schedule(&crate::messaging::run_options(settings))
                        .await?,
                )
            };
            let scheduled = started.elapsed().as_secs_f64();
            let sent = if no_send {
                None
            } else {
                let options =
                    crate::messaging::sender_options(settings, gateway.as_ref(), !no_limit);
                Some(accounts.send_outbox(gateway.as_ref(), &options).await?)
            };
            let chats = if no_send {
                None
            } else {
                let bot = crate::telegram::telegram_bot(&accounts, settings)?;
                let chat = crate::telegram::chat_gateway(bot.as_ref());
                let options = crate::telegram::sender_options(settings);
                Some(accounts.send_chats(chat.as_ref(), &options).await?)
            };
            println!(
                "{}",
                serde_json::json!({
                    "schedule": run, "send": sent, "telegram": chats, "transport": gateway.name()
                })
            );
            eprintln!(
                "schedule {scheduled:.2} s, send {:.2} s, peak memory {} MiB",
                started.elapsed().as_secs_f64() - scheduled,
                crate::cli::peak_memory_mib()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "?".into())
            );
            Ok(())
        }
        MessagesCommand::Inbox { all } => {
            let accounts = crate::open(settings).await?;
            for m in accounts.inbox(!all, 200).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    m.received_at.format("%Y-%m-%d %H:%M"),
                    m.sender,
                    m.account_id.map_or("-".into(), |a| a.to_string()),
                    m.intent,
                    m.body.replace(['\t', '\n'], " "),
                    m.action
                );
            }
            Ok(())
        }
        MessagesCommand::Cadence {
            agency,
            creditor,
            set,
        } => {
            let accounts = crate::open(settings).await?;
            let Some(found) = accounts.agency_by_slug(&agency).await? else {
                anyhow::bail!("no agency `{agency}`");
            };
            if let Some(path) = set {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let cadence: domain::messaging::Cadence = serde_json::from_str(&text)
                    .with_context(|| format!("reading {} as a cadence", path.display()))?;
                accounts
                    .set_cadence(
                        found.id,
                        creditor.trim(),
                        cadence,
                        &domain::Actor::System("cli".into()),
                    )
                    .await?;
            }
            let cadence = accounts.cadence_for(found.id, creditor.trim()).await?;
            println!("{}", serde_json::to_string_pretty(&cadence)?);
            Ok(())
        }
        MessagesCommand::Bench(args) => crate::messaging_bench::run(args).await,
    }
}

/// `settle worker`: the background work without the web server (plan charges and
/// messaging), for deployments that run workers as separate processes.
pub async fn worker(settings: Settings) -> anyhow::Result<()> {
    let accounts = crate::open(&settings).await?;
    let payments = crate::serve::gateway(&settings)?;
    let sms = crate::messaging::sms_gateway(&settings)?;
    tracing::info!(
        processor = payments.name(),
        sms = sms.name(),
        "worker started"
    );
    tokio::spawn(crate::payments::run_worker(
        accounts.clone(),
        payments,
        Duration::from_secs(settings.worker_interval_secs.max(1)),
    ));
    // Workers send Telegram reminders but never poll: one poller per bot (the server's),
    // or webhook mode for several processes.
    let bot = crate::telegram::telegram_bot(&accounts, &settings)?;
    crate::webhooks::spawn(&accounts, &settings);
    if let Some(addr) = settings.metrics_listen {
        let accounts = accounts.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::metrics::serve_for_worker(accounts, addr).await {
                tracing::error!("worker metrics on {addr}: {e:#}");
            }
        });
    }
    tokio::spawn(crate::messaging::run_worker(
        accounts.clone(),
        sms,
        crate::telegram::chat_gateway(bot.as_ref()),
        settings,
    ));
    crate::serve::shutdown().await;
    accounts.close().await;
    Ok(())
}
