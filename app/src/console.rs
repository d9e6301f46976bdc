//! The console's account work (server functions under `/agency/api`): finding an account,
//! the account page (ledger, plan, holds, preferences, disputes, timeline), notes, manual
//! adjustments, imports and their results, and the audit log. Uploading a placement file
//! is a multipart post to the server's `/agency/import/upload`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agency::{HoldRow, Me, TimelineRow};

/// An account found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountHitRow {
    /// Its id (the account page's address).
    pub id: i64,
    /// The creditor's reference.
    pub account_ref: String,
    /// The consumer's name.
    pub name: String,
    /// The consumer's phone.
    pub phone: String,
    /// The creditor.
    pub creditor: String,
}

/// One ledger posting on the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingRow {
    /// When.
    pub at: String,
    /// `placement`, `payment`, `adjustment`...
    pub kind: String,
    /// Signed amount, formatted.
    pub amount: String,
    /// The memo (an adjustment's reason).
    pub memo: String,
    /// Who posted it.
    pub by: String,
}

/// Everything the console's account page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetail {
    /// The user's header line.
    pub me: Me,
    /// Its id.
    pub id: i64,
    /// The creditor's reference.
    pub account_ref: String,
    /// The consumer's name.
    pub name: String,
    /// Label and value: creditor, contact details, language, placement...
    pub facts: Vec<(String, String)>,
    /// The current balance, formatted.
    pub balance: String,
    /// The Reg F itemization: label and amount.
    pub itemization: Vec<(String, String)>,
    /// Every posting, oldest first.
    pub postings: Vec<PostingRow>,
    /// The plan's status and next instalment, if there is a plan.
    pub plan: Option<String>,
    /// The account's holds, newest first.
    pub holds: Vec<HoldRow>,
    /// Contact preferences and consent per medium: label and value.
    pub preferences: Vec<(String, String)>,
    /// Disputes: id, reason, state.
    pub disputes: Vec<(i64, String, String)>,
    /// The timeline, newest first.
    pub timeline: Vec<TimelineRow>,
    /// The signed-in user may change things.
    pub can_act: bool,
    /// A fresh key for the adjustment form, so a resubmitted form posts once.
    pub adjust_key: String,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

/// An import in the console's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRunRow {
    /// Its id.
    pub id: i64,
    /// The file's name.
    pub source: String,
    /// When it started.
    pub started: String,
    /// Who started it (a name, `command line` for the `import` command).
    pub by: String,
    /// Rows read.
    pub rows: i64,
    /// Accounts placed.
    pub imported: i64,
    /// Already placed, unchanged.
    pub unchanged: i64,
    /// Refused.
    pub rejected: i64,
    /// Still running (or failed before it finished).
    pub unfinished: bool,
}

/// One import's result page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDetail {
    /// The user's header line.
    pub me: Me,
    /// The run.
    pub run: ImportRunRow,
    /// Bad rows: line, account reference, reason (at most the first 500 here; the report
    /// has every kept row).
    pub errors: Vec<(u64, String, String)>,
    /// Bad rows kept for the report (all of them, up to 10,000).
    pub kept_errors: usize,
    /// A one-time message from the upload.
    pub flash: Option<String>,
}

/// The import page: recent imports and the upload form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOverview {
    /// The user's header line.
    pub me: Me,
    /// Newest first.
    pub runs: Vec<ImportRunRow>,
    /// The columns a placement file must have.
    pub required: Vec<String>,
    /// The columns it may have.
    pub optional: Vec<String>,
    /// The signed-in user may import.
    pub can_act: bool,
    /// A one-time message from the last upload.
    pub flash: Option<String>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Its id.
    pub id: i64,
    /// When.
    pub at: String,
    /// Who.
    pub user: String,
    /// What.
    pub action: String,
    /// The account: id and reference.
    pub account: Option<(i64, String)>,
    /// Details.
    pub detail: String,
}

/// Entries shown on one page of the audit log.
pub const AUDIT_PAGE: i64 = 100;

#[cfg(feature = "ssr")]
mod imp {
    use leptos::prelude::*;

    use crate::portal::imp::unavailable;

    /// The name of who started an import: a user's name, or the command line.
    pub fn started_by(
        by: Option<&str>,
        names: &std::collections::HashMap<String, String>,
    ) -> String {
        match by {
            Some(actor) => names.get(actor).cloned().unwrap_or_else(|| actor.into()),
            None => "command line".into(),
        }
    }

    pub fn run_row(
        r: &accounts::console::ImportRun,
        names: &std::collections::HashMap<String, String>,
    ) -> super::ImportRunRow {
        super::ImportRunRow {
            id: r.id,
            source: r.source.clone(),
            started: crate::agency::imp::when(r.started_at),
            by: started_by(r.started_by.as_deref(), names),
            rows: r.rows_read,
            imported: r.imported,
            unchanged: r.unchanged,
            rejected: r.rejected,
            unfinished: r.finished_at.is_none(),
        }
    }

    pub async fn names(
        accounts: &accounts::Accounts,
        agency: domain::AgencyId,
    ) -> Result<std::collections::HashMap<String, String>, ServerFnError> {
        Ok(accounts
            .agency_user_names(agency)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|(id, name)| (domain::Actor::AgencyUser(id).to_string(), name))
            .collect())
    }
}

/// Finds the agency's accounts by reference, phone or name.
#[server(prefix = "/agency/api")]
pub async fn find_accounts(q: String) -> Result<Option<(Me, Vec<AccountHitRow>)>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, _, user)) = console::user().await? else {
        return Ok(None);
    };
    let me = console::me(&accounts, &user).await?;
    let hits = accounts
        .search_accounts(user.agency, &q)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|h| AccountHitRow {
            id: h.id,
            account_ref: h.account_ref,
            name: format!("{} {}", h.first_name, h.last_name),
            phone: h.phone.unwrap_or_default(),
            creditor: h.creditor,
        })
        .collect();
    Ok(Some((me, hits)))
}

/// One account of the agency, everything the console shows of it; `None` when it is
/// another agency's or does not exist.
#[server(prefix = "/agency/api")]
pub async fn console_account(id: i64) -> Result<Option<AccountDetail>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::{money, unavailable};
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let account = match accounts
        .agency_account(user.agency, domain::AccountId(id))
        .await
    {
        Ok(a) => a,
        Err(accounts::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(unavailable(e)),
    };
    let o = accounts
        .account_overview(account)
        .await
        .map_err(unavailable)?;
    let names = imp::names(&accounts, user.agency).await?;
    let r = &o.record;
    let it = &r.itemization;
    let facts = vec![
        ("Creditor".to_string(), r.creditor.clone()),
        (
            "Original creditor".to_string(),
            r.original_creditor.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            "Date of birth".to_string(),
            r.date_of_birth.date().to_string(),
        ),
        (
            "Phone".to_string(),
            r.phone
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "Email".to_string(),
            r.email
                .as_ref()
                .map(|e| e.as_str().to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        ("Address".to_string(), {
            let a = &r.address;
            let line2 = a.line2().map(|l| format!(", {l}")).unwrap_or_default();
            format!(
                "{}{line2}, {}, {} {}",
                a.line1(),
                a.city(),
                a.state().code(),
                a.postal_code().as_str()
            )
        }),
        ("Language".to_string(), r.language.tag().to_string()),
        (
            "Consent to texts at placement".to_string(),
            if r.sms_consent { "yes" } else { "no" }.to_string(),
        ),
        (
            "Time-barred".to_string(),
            if r.time_barred { "yes" } else { "no" }.to_string(),
        ),
        ("Placed".to_string(), console::when(r.placed_at)),
        (
            "Validation notice".to_string(),
            match &o.notice {
                Some(n) => format!(
                    "delivered {}; validation period ends {}",
                    console::when(n.delivered_at),
                    n.validation_end
                ),
                None => "not delivered electronically yet".into(),
            },
        ),
    ];
    let itemization = vec![
        (
            format!("Owed on {}", it.date()),
            money(it.balance_at_itemization()),
        ),
        ("Interest since".into(), money(it.interest_since())),
        ("Fees since".into(), money(it.fees_since())),
        ("Payments since".into(), money(it.payments_since())),
        ("Credits since".into(), money(it.credits_since())),
        ("Owed at placement".into(), money(it.current())),
    ];
    let postings = o
        .postings
        .iter()
        .map(|p| {
            let actor = p.posting.actor().to_string();
            PostingRow {
                at: console::when(p.posted_at),
                kind: p.posting.kind().as_str().to_string(),
                amount: money(p.posting.amount()),
                memo: p.posting.memo().to_string(),
                by: names.get(&actor).cloned().unwrap_or(actor),
            }
        })
        .collect();
    let plan = o.plan_status.as_ref().map(|status| match &o.plan_next {
        Some((due, amount)) => format!("{status}; next instalment {} on {due}", money(*amount)),
        None => status.clone(),
    });
    let prefs = accounts
        .contact_preferences(account)
        .await
        .map_err(unavailable)?;
    let mut preferences = vec![
        (
            "Time zone".to_string(),
            prefs
                .time_zone
                .map(|t| t.name().to_string())
                .unwrap_or_else(|| "from the address".into()),
        ),
        (
            "Inconvenient times".to_string(),
            if prefs.inconvenient_times.is_empty() {
                "none given".into()
            } else {
                prefs
                    .inconvenient_times
                    .iter()
                    .map(|t| format!("{}–{}", t.from().format("%H:%M"), t.to().format("%H:%M")))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
    ];
    for c in accounts
        .channel_consents(account)
        .await
        .map_err(unavailable)?
    {
        let mut stance = vec![if c.consented {
            "consent given"
        } else {
            "no consent"
        }];
        if c.opted_out {
            stance.push("opted out");
        }
        if c.refused {
            stance.push("asked not to be contacted this way");
        }
        preferences.push((
            format!("{} ({})", c.channel, c.source),
            format!(
                "{} since {}",
                stance.join(", "),
                console::when(c.updated_at)
            ),
        ));
    }
    let disputes = accounts
        .disputes(account)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|d| {
            let state = match (&d.answer, &d.delivered) {
                (_, Some(_)) => "answered and delivered",
                (Some(_), None) => "answered, awaiting delivery",
                (None, _) => "open",
            };
            (d.id, d.reason.as_str().to_string(), state.to_string())
        })
        .collect();
    Ok(Some(AccountDetail {
        me: console::me(&accounts, &user).await?,
        id,
        account_ref: r.account_ref.as_str().to_string(),
        name: format!("{} {}", r.name.first(), r.name.last()),
        facts,
        balance: money(o.balance),
        itemization,
        postings,
        plan,
        holds: console::hold_rows(&accounts, account).await?,
        preferences,
        disputes,
        timeline: console::timeline_rows(&accounts, &user, account).await?,
        can_act: user.role.can_act(),
        adjust_key: accounts::console::form_key(),
        flash: console::take_flash(&s).await?,
    }))
}

/// Adds a note to an account; it shows in the timeline and the audit log.
#[server(prefix = "/agency/api")]
pub async fn add_note(id: i64, body: String) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if !user.role.can_act() {
        "read_only"
    } else {
        match accounts.add_note(&user, domain::AccountId(id), &body).await {
            Ok(()) => "note_added",
            Err(accounts::Error::Invalid(_)) => "note_invalid",
            Err(accounts::Error::NotFound(_)) => "account_missing",
            Err(e) => return Err(unavailable(e)),
        }
    };
    console::set_flash(&s, flash).await?;
    leptos_axum::redirect(&format!("/agency/accounts/{id}"));
    Ok(())
}

/// Posts a manual adjustment with its reason (`amount` signed, e.g. `-25.00`).
#[server(prefix = "/agency/api")]
pub async fn adjust_balance(
    id: i64,
    amount: String,
    reason: String,
    key: String,
) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let account = domain::AccountId(id);
    let flash = if !user.role.can_act() {
        "read_only"
    } else {
        match accounts.agency_account(user.agency, account).await {
            Err(accounts::Error::NotFound(_)) => "account_missing",
            Err(e) => return Err(unavailable(e)),
            Ok(account) => {
                let currency = accounts
                    .balance(account)
                    .await
                    .map_err(unavailable)?
                    .currency();
                match domain::Money::parse(amount.trim(), currency) {
                    Err(_) => "adjust_amount",
                    Ok(m) => match accounts
                        .adjust_balance(&user, account, m, &reason, &key)
                        .await
                    {
                        Ok(accounts::PostResult::Posted(_)) => "adjusted",
                        Ok(accounts::PostResult::Duplicate(_)) => "adjusted_before",
                        Err(accounts::Error::Invalid(_) | accounts::Error::Ledger(_)) => {
                            "adjust_invalid"
                        }
                        Err(e) => return Err(unavailable(e)),
                    },
                }
            }
        }
    };
    console::set_flash(&s, flash).await?;
    leptos_axum::redirect(&format!("/agency/accounts/{id}"));
    Ok(())
}

/// The import page: the agency's recent imports and what a file must hold.
#[server(prefix = "/agency/api")]
pub async fn import_list() -> Result<Option<ImportOverview>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let names = imp::names(&accounts, user.agency).await?;
    let runs = accounts
        .import_runs(user.agency, 20)
        .await
        .map_err(unavailable)?
        .iter()
        .map(|r| imp::run_row(r, &names))
        .collect();
    Ok(Some(ImportOverview {
        me: console::me(&accounts, &user).await?,
        runs,
        required: accounts::import::REQUIRED_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect(),
        optional: accounts::import::OPTIONAL_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect(),
        can_act: user.role.can_act(),
        flash: console::take_flash(&s).await?,
    }))
}

/// One import's result: its counts and bad rows.
#[server(prefix = "/agency/api")]
pub async fn import_result(run: i64) -> Result<Option<ImportDetail>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let Some((found, errors)) = accounts
        .import_run(user.agency, run)
        .await
        .map_err(unavailable)?
    else {
        return Ok(None);
    };
    let names = imp::names(&accounts, user.agency).await?;
    Ok(Some(ImportDetail {
        me: console::me(&accounts, &user).await?,
        run: imp::run_row(&found, &names),
        kept_errors: errors.len(),
        errors: errors
            .into_iter()
            .take(500)
            .map(|e| (e.line, e.account_ref.unwrap_or_default(), e.reason))
            .collect(),
        flash: console::take_flash(&s).await?,
    }))
}

/// A page of the agency's audit log, newest first, before entry `before` (admins only:
/// `Some(None)` tells others they may not read it).
#[server(prefix = "/agency/api")]
pub async fn audit_entries(
    before: Option<i64>,
) -> Result<Option<(Me, Option<Vec<AuditRow>>)>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, _, user)) = console::user().await? else {
        return Ok(None);
    };
    let me = console::me(&accounts, &user).await?;
    if user.role != accounts::users::Role::Admin {
        return Ok(Some((me, None)));
    }
    let rows = accounts
        .audit_log(user.agency, before, AUDIT_PAGE)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|e| AuditRow {
            id: e.id,
            at: console::when(e.at),
            user: e.user,
            action: e.action,
            account: e.account.map(|(a, r)| (a.0, r)),
            detail: e.detail,
        })
        .collect();
    Ok(Some((me, Some(rows))))
}
