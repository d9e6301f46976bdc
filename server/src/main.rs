//! `settle`: the one binary. `serve` (the default) runs the portal on the embedded default;
//! `migrate`, `import`, `compliance` and `bench` are the operator's tools.

mod agency;
mod api;
mod assets;
mod bench;
mod bench_data;
mod cli;
mod compliance;
mod console_cli;
mod disputes;
mod messaging;
mod messaging_bench;
mod messaging_cli;
mod metrics;
mod payments;
mod payments_cli;
mod portal;
mod serve;
mod settings;
mod telegram;
mod webhooks;

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use accounts::{Accounts, SystemClock};
use cli::{Cli, Command};
use settings::{LogFormat, Settings};

// glibc's allocator took a fifth of the account page's time in allocation and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(path) = &cli.config {
        anyhow::ensure!(
            path.exists(),
            "config file {} does not exist",
            path.display()
        );
    }
    let settings = Settings::load(cli.config.as_deref()).context("reading settings")?;
    init_logs(&settings);
    match cli.command.unwrap_or_default() {
        Command::Serve => serve::run(settings).await,
        Command::Migrate => {
            let accounts = connect(&settings).await?;
            let applied = accounts.migrate().await?;
            println!("{applied} migration(s) applied; schema is current");
            Ok(())
        }
        Command::Import(args) => cli::import(&settings, args).await,
        Command::Bench(args) => bench::run(&settings, args).await,
        Command::Link(args) => cli::link(&settings, args).await,
        Command::Compliance { command } => compliance::run(&settings, command).await,
        Command::Payments { command } => payments_cli::run(&settings, command).await,
        Command::Messages { command } => messaging_cli::run(&settings, command).await,
        Command::Disputes { command } => console_cli::run(&settings, command).await,
        Command::Holds { command } => console_cli::holds(&settings, command).await,
        Command::Users { command } => console_cli::users(&settings, command).await,
        Command::ApiKeys { command } => console_cli::api_keys(&settings, command).await,
        Command::Timeline { account, agency } => {
            console_cli::timeline(&settings, &agency, &account).await
        }
        Command::Worker => messaging_cli::worker(settings).await,
    }
}

/// Connects to the configured database, creating the SQLite file's folder if needed.
pub(crate) async fn connect(settings: &Settings) -> anyhow::Result<Accounts> {
    let url = settings.database_url.expose();
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or("");
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
    }
    let clock: Arc<dyn accounts::Clock> = match settings.clock_start {
        Some(start) => Arc::new(accounts::OffsetClock::starting_at(start)),
        None => Arc::new(SystemClock),
    };
    Accounts::connect(url, clock)
        .await
        .with_context(|| format!("connecting to {:?}", settings.database_url))
}

/// Opens the database and brings its schema up to date.
pub(crate) async fn open(settings: &Settings) -> anyhow::Result<Accounts> {
    let accounts = connect(settings).await?;
    accounts.migrate().await.context("migrating the database")?;
    Ok(accounts)
}

fn init_logs(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
