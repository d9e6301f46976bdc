//! `settle disputes`, `settle holds`, `settle timeline` and `settle users`: the agency's
//! dispute queue, answers and mailed deliveries, holds, an account's history, console users.

use accounts::disputes::{AnswerInput, AnswerKind, UploadedFile};
use accounts::{Accounts, HoldKind};
use anyhow::{bail, Context};
use clap::Subcommand;
use domain::{AccountId, AccountRef, Actor, AgencyId};

use crate::settings::Settings;

/// Subcommands of `disputes`.
#[derive(Debug, Subcommand)]
pub enum DisputesCommand {
    /// Lists the agency's open disputes (answered ones wait for delivery), oldest first,
    /// one JSON object per line.
    Queue {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
    },
    /// Answers a dispute; the debtor is told (through the compliance engine) that the answer
    /// is in the portal, and the hold lifts once they read it.
    Answer {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The dispute's id.
        id: i64,
        /// `verified`, `corrected`, `closed` or `duplicate`.
        #[arg(long)]
        kind: String,
        /// The message to the debtor.
        #[arg(long)]
        message: String,
        /// A verification document (PDF, JPEG or PNG); may be repeated.
        #[arg(long)]
        document: Vec<std::path::PathBuf>,
        /// For `corrected`: how much the balance goes down, e.g. `-125.00`.
        #[arg(long, allow_hyphen_values = true)]
        correction: Option<String>,
        /// The original creditor's name and address (required when the debtor asked).
        #[arg(long)]
        original_creditor: Option<String>,
    },
    /// Records that the answer was mailed to the debtor: delivered, so the hold lifts.
    Mailed {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The dispute's id.
        id: i64,
    },
    /// Prints the agency's response target in days, or sets it.
    Target {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The new target (1 to 90 days).
        #[arg(long)]
        days: Option<i32>,
    },
}

/// Subcommands of `users`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Adds a console user. The password comes from `SETTLE_USER_PASSWORD`, else from the
    /// first line of standard input (never from the command line, where `ps` would show it).
    Add {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The sign-in email.
        #[arg(long)]
        email: String,
        /// The display name.
        #[arg(long)]
        name: String,
        /// `admin`, `agent` or `read_only`.
        #[arg(long, default_value = "agent")]
        role: String,
    },
    /// Turns a user's two-step sign-in off (for a lost phone); the user sets it up again
    /// after signing in with the password.
    ResetTwoStep {
        /// The user's sign-in email.
        #[arg(long)]
        email: String,
    },
}

/// Runs a `users` subcommand.
pub async fn users(settings: &Settings, command: UsersCommand) -> anyhow::Result<()> {
    let accounts = crate::open(settings).await?;
    match command {
        UsersCommand::Add {
            agency: slug,
            email,
            name,
            role,
        } => {
            let agency = agency(&accounts, &slug).await?;
            let role: accounts::users::Role = role.parse()?;
            let password = match std::env::var("SETTLE_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let user = accounts
                .create_user(agency, &email, &name, role, &password)
                .await?;
            println!(
                "user {} ({}) added as {}",
                user.id,
                user.email,
                role.as_str()
            );
        }
        UsersCommand::ResetTwoStep { email } => {
            if !accounts.reset_two_step(&email).await? {
                anyhow::bail!("no user {email} with two-step sign-in on");
            }
            println!("two-step sign-in is off for {email}");
        }
    }
    Ok(())
}

/// Subcommands of `api-keys`.
#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Makes a key and prints it once (only its hash is kept).
    Add {
        /// The agency whose data it reaches.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// What the key is for ("billing system").
        #[arg(long)]
        name: String,
        /// Comma-separated: accounts:read, accounts:write, webhooks.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
    },
    /// Lists the agency's keys (prefix, scopes, last use; never the key).
    List {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
    },
    /// Revokes a key at once.
    Revoke {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The key's id (from `list`).
        #[arg(long)]
        id: i64,
    },
}

/// Runs an `api-keys` subcommand.
pub async fn api_keys(settings: &Settings, command: ApiKeysCommand) -> anyhow::Result<()> {
    use accounts::api::Scope;
    use secrecy::ExposeSecret;
    let accounts = crate::open(settings).await?;
    match command {
        ApiKeysCommand::Add {
            agency: slug,
            name,
            scopes,
        } => {
            let agency = agency(&accounts, &slug).await?;
            let scopes = scopes
                .iter()
                .map(|s| s.trim().parse::<Scope>())
                .collect::<Result<Vec<_>, _>>()?;
            let (key, secret) = accounts
                .create_api_key(agency, &name, &scopes, None)
                .await?;
            eprintln!(
                "key {} ({}) made; it is shown only now:",
                key.id,
                scopes_text(&key.scopes)
            );
            println!("{}", secret.expose_secret());
        }
        ApiKeysCommand::List { agency: slug } => {
            let agency = agency(&accounts, &slug).await?;
            for key in accounts.api_keys(agency).await? {
                let state = match key.revoked_at {
                    Some(t) => format!("revoked {}", t.format("%Y-%m-%d %H:%M")),
                    None => "active".to_string(),
                };
                let used = key
                    .last_used_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}…\t{}\t{}\t{}\tlast used {}",
                    key.id,
                    key.prefix,
                    key.name,
                    scopes_text(&key.scopes),
                    state,
                    used
                );
            }
        }
        ApiKeysCommand::Revoke { agency: slug, id } => {
            let agency = agency(&accounts, &slug).await?;
            if !accounts.revoke_api_key(agency, id, None).await? {
                bail!("agency `{slug}` has no active key {id}");
            }
            println!("key {id} revoked");
        }
    }
    Ok(())
}

fn scopes_text(scopes: &[accounts::api::Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Subcommands of `holds`.
#[derive(Debug, Subcommand)]
pub enum HoldsCommand {
    /// Lists every hold of an account, active or lifted, with who and why.
    List {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The account reference.
        account: String,
    },
    /// Sets a hold: `attorney`, `cease`, `bankruptcy` or `deceased`.
    Set {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The account reference.
        account: String,
        /// The kind of hold.
        #[arg(long)]
        kind: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// For an attorney: their name and how to reach them.
        #[arg(long)]
        contact: Option<String>,
    },
    /// Lifts an active hold; a reason is required.
    Clear {
        /// The agency.
        #[arg(long, default_value = accounts::demo::DEMO_AGENCY_SLUG)]
        agency: String,
        /// The account reference.
        account: String,
        /// The kind of hold.
        #[arg(long)]
        kind: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// Prints an account's interaction history, oldest first, one JSON object per line.
pub async fn timeline(settings: &Settings, slug: &str, reference: &str) -> anyhow::Result<()> {
    let accounts = crate::open(settings).await?;
    let agency = agency(&accounts, slug).await?;
    let id = account(&accounts, agency, reference).await?;
    for e in accounts.timeline(id).await? {
        println!(
            "{}",
            serde_json::json!({"at": e.at, "kind": e.kind, "summary": e.summary, "actor": e.actor})
        );
    }
    Ok(())
}

/// Who acts from the command line: the operator's login name.
fn operator() -> Actor {
    Actor::System(format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "operator".into())
    ))
}

async fn agency(accounts: &Accounts, slug: &str) -> anyhow::Result<AgencyId> {
    match accounts.agency_by_slug(slug).await? {
        Some(a) => Ok(a.id),
        None => bail!("no agency `{slug}`"),
    }
}

async fn account(
    accounts: &Accounts,
    agency: AgencyId,
    reference: &str,
) -> anyhow::Result<AccountId> {
    let r = AccountRef::parse(reference).map_err(|e| anyhow::anyhow!("{e}"))?;
    match accounts.account_by_ref(agency, &r).await? {
        Some(a) => Ok(a.id),
        None => bail!("no account `{reference}`"),
    }
}

/// Runs a `disputes` subcommand.
pub async fn run(settings: &Settings, command: DisputesCommand) -> anyhow::Result<()> {
    let accounts = crate::open(settings).await?;
    match command {
        DisputesCommand::Queue { agency: slug } => {
            let agency = agency(&accounts, &slug).await?;
            let today = accounts.clock().now().date_naive();
            for e in accounts.dispute_queue(agency).await? {
                let d = &e.dispute;
                println!(
                    "{}",
                    serde_json::json!({
                        "id": d.id,
                        "account_ref": e.account_ref,
                        "debtor": e.debtor,
                        "reason": d.reason.as_str(),
                        "details": d.details,
                        "original_creditor_requested": d.wants_original_creditor,
                        "origin": d.origin,
                        "written": d.written,
                        "opened_at": d.opened_at,
                        "age_days": (today - d.opened_at.date_naive()).num_days(),
                        "due_on": d.due_on,
                        "overdue": today > d.due_on,
                        "within_validation_period": d.within_validation,
                        "duplicate_of": d.duplicate_of,
                        "answered": d.answer.as_ref().map(|a| a.kind.as_str()),
                        "files": d.files.iter().map(|f| serde_json::json!({
                            "id": f.id, "role": f.role, "name": f.name,
                            "type": f.content_type, "bytes": f.size,
                        })).collect::<Vec<_>>(),
                    })
                );
            }
        }
        DisputesCommand::Answer {
            agency: slug,
            id,
            kind,
            message,
            document,
            correction,
            original_creditor,
        } => {
            let agency = agency(&accounts, &slug).await?;
            let kind: AnswerKind = kind.parse()?;
            let mut documents = Vec::new();
            for path in document {
                let bytes =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("document");
                documents.push(
                    UploadedFile::parse(name, bytes)
                        .with_context(|| format!("{} refused", path.display()))?,
                );
            }
            let correction = match correction {
                Some(text) => {
                    let account = accounts.dispute_account(agency, id).await?;
                    let currency = accounts.balance(account).await?.currency();
                    Some(
                        domain::Money::parse(&text, currency)
                            .map_err(|e| anyhow::anyhow!("--correction: {e}"))?,
                    )
                }
                None => None,
            };
            let input = AnswerInput {
                kind,
                message,
                documents,
                correction,
                original_creditor,
            };
            accounts
                .answer_dispute(agency, id, input, &operator())
                .await?;
            println!("dispute {id} answered");
        }
        DisputesCommand::Mailed { agency: slug, id } => {
            let agency = agency(&accounts, &slug).await?;
            let account = accounts.dispute_account(agency, id).await?;
            let delivery = accounts::disputes::Delivery::Mail;
            if !accounts
                .deliver_dispute_answer(account, id, delivery)
                .await?
            {
                bail!("dispute {id} has no answer waiting for delivery");
            }
            println!("dispute {id}: answer delivered by mail; its hold is lifted");
        }
        DisputesCommand::Target { agency: slug, days } => {
            let agency = agency(&accounts, &slug).await?;
            if let Some(days) = days {
                accounts.set_dispute_response_days(agency, days).await?;
            }
            println!("{}", accounts.dispute_response_days(agency).await?);
        }
    }
    Ok(())
}

/// Runs a `holds` subcommand.
pub async fn holds(settings: &Settings, command: HoldsCommand) -> anyhow::Result<()> {
    let accounts = crate::open(settings).await?;
    match command {
        HoldsCommand::List {
            agency: slug,
            account: r,
        } => {
            let agency = agency(&accounts, &slug).await?;
            let id = account(&accounts, agency, &r).await?;
            for h in accounts.holds(id).await? {
                println!(
                    "{}",
                    serde_json::json!({
                        "kind": h.kind.as_str(), "reason": h.reason, "contact": h.contact,
                        "set_by": h.set_by, "set_at": h.set_at,
                        "active": h.cleared.is_none(),
                        "cleared_at": h.cleared.as_ref().map(|c| c.0),
                        "cleared_by": h.cleared.as_ref().map(|c| &c.1),
                        "cleared_reason": h.cleared.as_ref().map(|c| &c.2),
                    })
                );
            }
        }
        HoldsCommand::Set {
            agency: slug,
            account: r,
            kind,
            reason,
            contact,
        } => {
            let agency = agency(&accounts, &slug).await?;
            let id = account(&accounts, agency, &r).await?;
            let kind: HoldKind = kind.parse()?;
            accounts
                .set_hold(id, kind, &reason, contact.as_deref(), &operator())
                .await?;
            println!("{kind} hold set on {r}");
        }
        HoldsCommand::Clear {
            agency: slug,
            account: r,
            kind,
            reason,
        } => {
            let agency = agency(&accounts, &slug).await?;
            let id = account(&accounts, agency, &r).await?;
            let kind: HoldKind = kind.parse()?;
            accounts.clear_hold(id, kind, &reason, &operator()).await?;
            println!("{kind} hold lifted on {r}");
        }
    }
    Ok(())
}
