//! The command line: subcommands and the `import` command.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::settings::Settings;

/// Settle: self-service debt resolution for collection agencies.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// A TOML settings file (default: settle.toml if present). `SETTLE_*` variables override it.
    #[arg(long, global = true, env = "SETTLE_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settle's subcommands.
#[derive(Debug, Subcommand, Default)]
pub enum Command {
    /// Run the portal (migrates the database and seeds demo data on the embedded default).
    #[default]
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import a placement CSV file; prints one line per rejected row.
    Import(ImportArgs),
    /// Measure import speed against the database's own bulk loader and print a Markdown table.
    Bench(crate::bench::BenchArgs),
    /// Make a portal link for an account and print it (or revoke one with --revoke).
    Link(LinkArgs),
    /// The compliance engine: dry run, decisions for stored accounts, the decision log.
    Compliance {
        /// What to do.
        #[command(subcommand)]
        command: crate::compliance::ComplianceCommand,
    },
    /// Payments: reconcile with Stripe, measure webhook ingest.
    Payments {
        /// What to do.
        #[command(subcommand)]
        command: crate::payments_cli::PaymentsCommand,
    },
    /// Messaging: one pass now, the inbox, the benchmark.
    Messages {
        /// What to do.
        #[command(subcommand)]
        command: crate::messaging_cli::MessagesCommand,
    },
    /// Disputes: the agency's queue, answers, mailed deliveries, the response target.
    Disputes {
        /// What to do.
        #[command(subcommand)]
        command: crate::console_cli::DisputesCommand,
    },
    /// Holds (attorney, cease, bankruptcy, deceased): list, set with a reason, lift.
    Holds {
        /// What to do.
        #[command(subcommand)]
        command: crate::console_cli::HoldsCommand,
    },
    /// Agency console users: add one (admin, agent, read-only).
    Users {
        /// What to do.
        #[command(subcommand)]
        command: crate::console_cli::UsersCommand,
    },
    /// Make, list and revoke keys for the agency API (`/api/v1`).
    ApiKeys {
        /// What to do.
        #[command(subcommand)]
        command: crate::console_cli::ApiKeysCommand,
    },
    /// An account's interaction history (messages, decisions, postings, disputes, holds),
    /// oldest first, as JSON Lines.
    Timeline {
        /// The account reference.
        #[arg(long)]
        account: String,
        /// The agency holding it.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
    },
    /// Run the background worker alone (plan charges, reminders, sending), without the web
    /// server: for layouts with separate worker processes.
    Worker,
}

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The placement file (CSV with a header row).
    pub file: PathBuf,
    /// The agency the accounts are placed with (created if it does not exist).
    #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
    pub agency: String,
    /// The agency's display name, used when it is created.
    #[arg(long)]
    pub agency_name: Option<String>,
    /// Only check the file: print its bad rows and a summary, open no database, write
    /// nothing.
    #[arg(long)]
    pub check: bool,
}

/// Arguments of `link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The account reference.
    #[arg(long, required_unless_present = "revoke")]
    pub account: Option<String>,
    /// The agency holding it.
    #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
    pub agency: String,
    /// Days the link works.
    #[arg(long, default_value_t = accounts::portal::DEFAULT_LINK_TTL_DAYS)]
    pub days: i64,
    /// Revoke the link with this id instead.
    #[arg(long)]
    pub revoke: Option<i64>,
}

/// Runs `link`: prints `<id> <public_url>/l/<token> <expiry>`.
pub async fn link(settings: &Settings, args: LinkArgs) -> anyhow::Result<()> {
    let accounts = crate::open(settings).await?;
    if let Some(id) = args.revoke {
        accounts.revoke_link(id).await?;
        println!("link {id} revoked");
        return Ok(());
    }
    let reference = args.account.unwrap_or_default();
    let agency = accounts
        .agency_by_slug(&args.agency)
        .await?
        .with_context(|| format!("no agency `{}`", args.agency))?;
    let r = domain::AccountRef::parse(&reference).map_err(anyhow::Error::msg)?;
    let record = accounts
        .account_by_ref(agency.id, &r)
        .await?
        .with_context(|| format!("no account `{reference}` at `{}`", args.agency))?;
    let link = accounts
        .create_link(record.id, chrono::Duration::days(args.days))
        .await?;
    println!(
        "{} {}/l/{} {}",
        link.id,
        settings.public_url.trim_end_matches('/'),
        link.token.expose(),
        link.expires_at.to_rfc3339()
    );
    Ok(())
}

/// Runs `import`: bad rows go to standard output one per line, the summary to standard error.
pub async fn import(settings: &Settings, args: ImportArgs) -> anyhow::Result<()> {
    if args.check {
        return check_import(settings, &args);
    }
    let accounts = crate::open(settings).await?;
    let name = args.agency_name.clone().unwrap_or_else(|| {
        if args.agency == accounts::demo::DEMO_AGENCY_SLUG {
            accounts::demo::DEMO_AGENCY_NAME.to_string()
        } else {
            args.agency.clone()
        }
    });
    let agency = accounts.ensure_agency(&args.agency, &name).await?;
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let source = args.file.display().to_string();
    let started = std::time::Instant::now();
    let report = accounts
        .import_placements(
            agency.id,
            &source,
            std::io::BufReader::with_capacity(1 << 20, file),
            |e| println!("{e}"),
        )
        .await
        .with_context(|| format!("importing {source}"))?;
    if !report.ignored_columns.is_empty() {
        eprintln!(
            "warning: ignored unknown column(s): {}",
            report.ignored_columns.join(", ")
        );
    }
    eprintln!(
        "{source}: {} row(s): {} imported, {} already placed (unchanged), {} rejected in {:.1}s \
         (import run {}, peak memory {} MiB)",
        report.rows,
        report.imported,
        report.unchanged,
        report.rejected,
        started.elapsed().as_secs_f64(),
        report.run_id,
        peak_memory_mib()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "?".into())
    );
    Ok(())
}

/// Runs `import --check`: the same lines and summary as an import, from the file alone;
/// exits with status 1 when any row was rejected.
fn check_import(settings: &Settings, args: &ImportArgs) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let source = args.file.display().to_string();
    // "Today" decides which dates are in the future, so it follows the configured clock.
    let today = settings
        .clock_start
        .unwrap_or_else(chrono::Utc::now)
        .date_naive();
    let check =
        accounts::import::check_placements(std::io::BufReader::with_capacity(1 << 20, file), today)
            .with_context(|| format!("checking {source}"))?;
    for e in &check.rejected {
        println!("{e}");
    }
    if !check.ignored_columns.is_empty() {
        eprintln!(
            "warning: ignored unknown column(s): {}",
            check.ignored_columns.join(", ")
        );
    }
    eprintln!(
        "{source}: {} row(s): {} valid, {} rejected (checked only; references already placed \
         or repeated in the file are found by the import)",
        check.rows,
        check.valid,
        check.rejected.len()
    );
    if !check.rejected.is_empty() {
        // A check is a gate in an agency's own scripts: rejected rows fail it, like a
        // linter's findings, without an error message of its own (the lines said it).
        std::process::exit(1);
    }
    Ok(())
}

/// The process's peak resident memory in MiB, from /proc (Linux only).
pub(crate) fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
