//! `compliance`: the dry run (`check`), a logged decision for a stored account (`decide`),
//! the decision log (`log`) and the engine's benchmark (`bench`).

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use domain::compliance::{self, wire, Channel, Policy, Purpose};
use domain::AccountRef;

use crate::settings::Settings;

/// The `compliance` subcommands.
#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Dry run: read questions as JSON Lines (FILE or standard input), write one JSON answer
    /// per line, in order. Needs no database.
    Check(CheckArgs),
    /// Decide whether a message may go to a stored account now, and log the decision.
    Decide(DecideArgs),
    /// Print an account's logged decisions as JSON Lines, newest first.
    Log(LogArgs),
    /// Measure decisions per second over generated consumers and print a Markdown table.
    Bench(BenchArgs),
}

/// Arguments of `compliance check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// JSON Lines questions (default: standard input).
    pub file: Option<PathBuf>,
    /// An agency policy as JSON (stricter than the defaults; looser settings are refused).
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

/// Which stored account.
#[derive(Debug, Args)]
pub struct AccountArgs {
    /// The account reference.
    #[arg(long)]
    pub account: String,
    /// The agency holding it.
    #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
    pub agency: String,
}

/// Arguments of `compliance decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// sms, telegram, email or call.
    #[arg(long)]
    channel: String,
    /// reminder, validation_notice, receipt, reply, opt_out_confirmation or cease_confirmation.
    #[arg(long, default_value = "reminder")]
    purpose: String,
}

/// Arguments of `compliance log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// At most this many entries.
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

/// Arguments of `compliance bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How many generated consumers to decide for.
    #[arg(long, default_value_t = 1_000_000)]
    pub consumers: usize,
}

/// Runs a `compliance` subcommand.
pub async fn run(settings: &Settings, command: ComplianceCommand) -> anyhow::Result<()> {
    match command {
        ComplianceCommand::Check(args) => check(args),
        ComplianceCommand::Decide(args) => {
            let accounts = crate::open(settings).await?;
            let id = find(&accounts, &args.account).await?;
            let channel: Channel = args.channel.parse().map_err(anyhow::Error::msg)?;
            let purpose: Purpose = args.purpose.parse().map_err(anyhow::Error::msg)?;
            let logged = accounts.decide_contact(id, channel, purpose).await?;
            println!("{}", serde_json::to_string(&logged)?);
            Ok(())
        }
        ComplianceCommand::Log(args) => {
            let accounts = crate::open(settings).await?;
            let id = find(&accounts, &args.account).await?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            for entry in accounts.decision_log(id, args.limit).await? {
                writeln!(out, "{}", serde_json::to_string(&entry)?)?;
            }
            out.flush()?;
            Ok(())
        }
        ComplianceCommand::Bench(args) => {
            print!("{}", bench(args.consumers));
            Ok(())
        }
    }
}

async fn find(
    accounts: &accounts::Accounts,
    args: &AccountArgs,
) -> anyhow::Result<domain::AccountId> {
    let agency = accounts
        .agency_by_slug(&args.agency)
        .await?
        .with_context(|| format!("no agency `{}`", args.agency))?;
    let reference = AccountRef::parse(&args.account).map_err(anyhow::Error::msg)?;
    let record = accounts
        .account_by_ref(agency.id, &reference)
        .await?
        .with_context(|| format!("no account `{}` at `{}`", args.account, args.agency))?;
    Ok(record.id)
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let policy = match &args.policy {
        None => Policy::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let policy: Policy = serde_json::from_str(&text)
                .with_context(|| format!("reading the policy in {}", path.display()))?;
            policy.validate()?
        }
    };
    let input: Box<dyn BufRead> = match &args.file {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in input.lines() {
        let line = line.context("reading questions")?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", wire::answer_line(&line, &policy))?;
    }
    out.flush()?;
    Ok(())
}

/// Generates `n` consumers and times the engine on them: the decision itself (facts already
/// parsed, as the worker holds them) and the whole dry-run line (JSON in, JSON out).
pub fn bench(n: usize) -> String {
    let policy = Policy::default();
    let gen = crate::bench_data::Generator::new(42);
    let batch = 10_000;
    let mut decided = 0usize;
    let mut allowed = 0usize;
    let mut engine_secs = 0.0;
    let mut json_secs = 0.0;
    let json_n = n.min(200_000);
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let questions: Vec<_> = (i..end).map(|k| gen.question(k)).collect();
        let started = Instant::now();
        for (q, now) in &questions {
            if compliance::decide(q, &policy, *now).allowed() {
                allowed += 1;
            }
        }
        engine_secs += started.elapsed().as_secs_f64();
        decided += questions.len();
        if i < json_n {
            let lines: Vec<String> = questions
                .iter()
                .enumerate()
                .map(|(k, (q, now))| {
                    wire::question_to_value(&serde_json::json!(i + k), q, *now).to_string()
                })
                .collect();
            let started = Instant::now();
            for l in &lines {
                std::hint::black_box(wire::answer_line(l, &policy));
            }
            json_secs += started.elapsed().as_secs_f64();
        }
        i = end;
    }
    let json_done = json_n.min(n);
    format!(
        "| what | consumers | seconds | per second | per decision |\n\
         |---|---|---|---|---|\n\
         | decide (facts in memory, one core) | {decided} | {engine_secs:.2} | {:.0} | {:.2} µs |\n\
         | dry-run line (JSON in and out, one core) | {json_done} | {json_secs:.2} | {:.0} | {:.2} µs |\n\
         \n{allowed} of {decided} allowed at their generated instant.\n",
        decided as f64 / engine_secs,
        engine_secs * 1e6 / decided as f64,
        json_done as f64 / json_secs,
        json_secs * 1e6 / json_done.max(1) as f64,
    )
}
