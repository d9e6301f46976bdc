//! `bench`: import speed for a generated placement file, next to the time the database's own
//! bulk loader (`sqlite3 .import`, `psql \copy`) takes to load the same file raw into a plain
//! table. Each import runs as a child `settle import` so its peak memory is its own.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use tokio::process::Command;

use crate::settings::Settings;

/// Arguments of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Rows in the generated placement file.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// A PostgreSQL URL to measure as well (a fresh schema is made and dropped).
    #[arg(long)]
    pub postgres: Option<String>,
    /// Where to write the Markdown table (it is always printed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only write the generated placement file here and exit (used by scripts/bench-portal).
    #[arg(long)]
    pub generate_only: Option<PathBuf>,
}

struct Measure {
    engine: &'static str,
    loader: String,
    seconds: f64,
    peak_mib: Option<f64>,
}

async fn run_timed(cmd: &mut Command) -> anyhow::Result<(f64, String)> {
    let started = Instant::now();
    let out = cmd
        .output()
        .await
        .with_context(|| format!("running {cmd:?}"))?;
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if !out.status.success() {
        bail!("{cmd:?} failed: {stderr}");
    }
    Ok((secs, stderr))
}

/// The number after the last `label` in a child's summary on standard error.
pub(crate) fn figure(stderr: &str, label: &str) -> Option<f64> {
    let at = stderr.rfind(label)? + label.len();
    stderr[at..].split_whitespace().next()?.parse().ok()
}

/// This machine's cores, for the tables' captions.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

async fn settle_import(
    file: &Path,
    database_url: &str,
) -> anyhow::Result<(f64, Option<f64>, String)> {
    let exe = std::env::current_exe()?;
    let (secs, stderr) = run_timed(
        Command::new(exe)
            .arg("import")
            .arg(file)
            .env("SETTLE_DATABASE_URL", database_url)
            .env("SETTLE_LOG_LEVEL", "warn")
            .stdout(std::process::Stdio::null()),
    )
    .await?;
    Ok((secs, figure(&stderr, "peak memory "), stderr))
}

/// A schema of its own on a PostgreSQL server, for one benchmark: made on creation, and
/// removed with everything in it by [`ScratchSchema::remove`]. Its `url` puts Settle in it.
pub(crate) struct ScratchSchema {
    server: String,
    name: String,
    /// The server's URL with the schema as the search path.
    pub url: String,
}

impl ScratchSchema {
    /// Makes a fresh schema named after `prefix` and this process.
    pub async fn create(server: &str, prefix: &str) -> anyhow::Result<Self> {
        let name = format!("{prefix}_{}", std::process::id());
        let sep = if server.contains('?') { '&' } else { '?' };
        let scratch = Self {
            url: format!("{server}{sep}options=-c%20search_path%3D{name}"),
            server: server.to_string(),
            name,
        };
        scratch
            .psql(&format!("CREATE SCHEMA {}", scratch.name))
            .await
            .context("psql must be installed and the PostgreSQL URL reachable")?;
        Ok(scratch)
    }

    fn psql_command(&self, sql: &str) -> Command {
        let mut c = Command::new("psql");
        c.arg(&self.server)
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
            // Through the environment, since one -c cannot mix SQL with a \copy.
            .env("PGOPTIONS", format!("-c search_path={}", self.name));
        c
    }

    /// Runs SQL (or a psql meta-command) with the schema as the search path.
    pub async fn psql(&self, sql: &str) -> anyhow::Result<()> {
        run_timed(&mut self.psql_command(sql)).await.map(|_| ())
    }

    /// Drops the schema and everything in it; a failure is only reported.
    pub async fn remove(self) {
        if let Err(e) = self
            .psql(&format!("DROP SCHEMA {} CASCADE", self.name))
            .await
        {
            eprintln!("could not drop schema {}: {e:#}", self.name);
        }
    }
}

/// Runs the benchmark and prints the table.
pub async fn run(_settings: &Settings, args: BenchArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.generate_only {
        let f =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        accounts::demo::write_generated_csv(f, args.rows)?;
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("placements.csv");
    let started = Instant::now();
    {
        let f = std::fs::File::create(&file)?;
        accounts::demo::write_generated_csv(f, args.rows)?;
    }
    let bytes = std::fs::metadata(&file)?.len();
    eprintln!(
        "generated {} rows ({:.0} MB) in {:.1}s",
        args.rows,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let mut results = Vec::new();

    // SQLite: raw load into a plain table, then Settle's import into a fresh database.
    let raw_db = dir.path().join("raw.db");
    let (secs, _) = run_timed(
        Command::new("sqlite3")
            .arg(&raw_db)
            .arg(".mode csv")
            .arg(format!(".import '{}' raw", file.display())),
    )
    .await
    .context("sqlite3 must be installed (apt-get install sqlite3)")?;
    results.push(Measure {
        engine: "SQLite",
        loader: "sqlite3 .import (raw table)".into(),
        seconds: secs,
        peak_mib: None,
    });
    let url = format!("sqlite:{}", dir.path().join("settle.db").display());
    let (secs, peak, summary) = settle_import(&file, &url).await?;
    eprintln!("{}", summary.trim());
    results.push(Measure {
        engine: "SQLite",
        loader: "settle import".into(),
        seconds: secs,
        peak_mib: peak,
    });

    if let Some(pg) = &args.postgres {
        let scratch = ScratchSchema::create(pg, "bench").await?;
        let copied = async {
            scratch
                .psql(&format!(
                    "CREATE TABLE raw ({})",
                    accounts::demo::HEADER
                        .map(|c| format!("{c} text"))
                        .join(", ")
                ))
                .await?;
            let started = Instant::now();
            scratch
                .psql(&format!(
                    "\\copy raw FROM '{}' WITH (FORMAT csv, HEADER true)",
                    file.display()
                ))
                .await?;
            Ok::<_, anyhow::Error>(started.elapsed().as_secs_f64())
        }
        .await;
        let secs = match copied {
            Ok(secs) => secs,
            Err(e) => {
                scratch.remove().await;
                return Err(e);
            }
        };
        results.push(Measure {
            engine: "PostgreSQL",
            loader: "psql \\copy (raw table)".into(),
            seconds: secs,
            peak_mib: None,
        });
        let outcome = settle_import(&file, &scratch.url).await;
        scratch.remove().await;
        let (secs, peak, summary) = outcome?;
        eprintln!("{}", summary.trim());
        results.push(Measure {
            engine: "PostgreSQL",
            loader: "settle import".into(),
            seconds: secs,
            peak_mib: peak,
        });
    }

    let mut table = format!(
        "Placement import, {} rows, {:.0} MB CSV, {} cores\n\n\
         | engine | loader | seconds | rows/s | × raw load | peak memory |\n\
         |---|---|---:|---:|---:|---:|\n",
        args.rows,
        bytes as f64 / 1e6,
        cores()
    );
    for m in &results {
        let raw = results
            .iter()
            .find(|r| r.engine == m.engine && r.peak_mib.is_none())
            .map(|r| r.seconds);
        table.push_str(&format!(
            "| {} | {} | {:.2} | {:.0} | {} | {} |\n",
            m.engine,
            m.loader,
            m.seconds,
            args.rows as f64 / m.seconds,
            raw.map(|r| format!("{:.2}", m.seconds / r))
                .unwrap_or_default(),
            m.peak_mib
                .map(|p| format!("{p:.0} MiB"))
                .unwrap_or_else(|| "–".into()),
        ));
    }
    println!("{table}");
    if let Some(out) = args.out {
        std::fs::write(&out, &table).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
