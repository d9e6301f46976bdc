//! The agency console's server functions (under `/agency/api`, so they run inside the
//! console's own session cookie): sign-in, the dispute queue, one dispute with its account's
//! holds and timeline, mailed delivery, holds. Answering with documents is a multipart
//! post to the server's `/agency/disputes/{id}/answer`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user, for the console's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Display name.
    pub name: String,
    /// `admin`, `agent` or `read_only`.
    pub role: String,
    /// The agency's name.
    pub agency: String,
}

/// One row of the dispute queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    /// The dispute's id.
    pub id: i64,
    /// The account reference.
    pub account_ref: String,
    /// The debtor's name.
    pub debtor: String,
    /// The B-1 reason code.
    pub reason: String,
    /// Opened on (ISO date).
    pub opened: String,
    /// Days since it was opened.
    pub age_days: i64,
    /// The response target (ISO date).
    pub due: String,
    /// Past its response target.
    pub overdue: bool,
    /// Came within the validation period.
    pub within_validation: bool,
    /// The earlier dispute it repeats.
    pub duplicate_of: Option<i64>,
    /// How many files the debtor attached.
    pub evidence: usize,
    /// Answered, waiting for delivery.
    pub answered: bool,
}

/// A file link in the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleFile {
    /// Download address.
    pub href: String,
    /// Name.
    pub name: String,
    /// `evidence` or `verification`.
    pub role: String,
}

/// A hold as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldRow {
    /// `attorney`, `cease`, `bankruptcy`, `deceased`.
    pub kind: String,
    /// Why, who and when it was set (and the attorney's contact).
    pub set: String,
    /// Why, who and when it was lifted; `None` while active.
    pub cleared: Option<String>,
}

/// One step of an account's timeline as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// When (UTC).
    pub at: String,
    /// What kind of step (`posting`, `inbound`, `decision`, `note`...).
    pub kind: String,
    /// What happened.
    pub summary: String,
    /// Who did it, by name where it is one of the agency's users.
    pub by: Option<String>,
}

/// Everything the console's dispute page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeDetail {
    /// The queue row of it.
    pub row: QueueRow,
    /// The debtor's words.
    pub details: String,
    /// The original creditor's name and address were asked for.
    pub wants_original_creditor: bool,
    /// `portal`, `sms`, `telegram`, `agency`.
    pub origin: String,
    /// A written dispute.
    pub written: bool,
    /// The validation period's end, if the notice was delivered.
    pub validation_end: Option<String>,
    /// Files.
    pub files: Vec<ConsoleFile>,
    /// The answer: kind, message, who, when.
    pub answer: Option<(String, String, String, String)>,
    /// The original creditor's name and address given with the answer.
    pub original_creditor: Option<String>,
    /// Delivered: when and how.
    pub delivered: Option<(String, String)>,
    /// The account's holds, newest first.
    pub holds: Vec<HoldRow>,
    /// The account's timeline, newest first.
    pub timeline: Vec<TimelineRow>,
    /// The signed-in user may change things.
    pub can_act: bool,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod imp {
    use accounts::users::AgencyUser;
    use leptos::prelude::*;
    use tower_sessions::Session;

    use crate::portal::imp::{accounts, session, unavailable};

    pub use crate::session_keys::{AGENCY_FLASH, AGENCY_USER};

    /// The signed-in agency user; otherwise redirects to the sign-in page.
    pub async fn user() -> Result<Option<(accounts::Accounts, Session, AgencyUser)>, ServerFnError>
    {
        let accounts = accounts()?;
        let s = session().await?;
        let id = s.get::<i64>(AGENCY_USER).await.map_err(unavailable)?;
        let user = match id {
            Some(id) => accounts.agency_user(id).await.map_err(unavailable)?,
            None => None,
        };
        match user {
            Some(u) => Ok(Some((accounts, s, u))),
            None => {
                leptos_axum::redirect("/agency/sign-in");
                Ok(None)
            }
        }
    }

    pub async fn take_flash(s: &Session) -> Result<Option<String>, ServerFnError> {
        if s.get_value(AGENCY_FLASH)
            .await
            .map_err(unavailable)?
            .is_none()
        {
            return Ok(None);
        }
        s.remove::<String>(AGENCY_FLASH).await.map_err(unavailable)
    }

    pub async fn set_flash(s: &Session, flash: &str) -> Result<(), ServerFnError> {
        s.insert(AGENCY_FLASH, flash).await.map_err(unavailable)
    }

    /// A time as the console shows it.
    pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    /// The user's header line.
    pub async fn me(
        accounts: &accounts::Accounts,
        user: &AgencyUser,
    ) -> Result<super::Me, ServerFnError> {
        let agency = accounts
            .agencies()
            .await
            .map_err(unavailable)?
            .into_iter()
            .find(|a| a.id == user.agency)
            .map(|a| a.name)
            .unwrap_or_default();
        Ok(super::Me {
            name: user.name.clone(),
            role: user.role.as_str().to_string(),
            agency,
        })
    }

    /// The account's holds, newest first, with who set and lifted them and why.
    pub async fn hold_rows(
        accounts: &accounts::Accounts,
        account: domain::AccountId,
    ) -> Result<Vec<super::HoldRow>, ServerFnError> {
        Ok(accounts
            .holds(account)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|h| super::HoldRow {
                kind: h.kind.as_str().to_string(),
                set: format!(
                    "{}{} (set by {} on {})",
                    h.reason,
                    h.contact
                        .map(|c| format!("; contact: {c}"))
                        .unwrap_or_default(),
                    h.set_by,
                    when(h.set_at)
                ),
                cleared: h
                    .cleared
                    .map(|(at, by, why)| format!("{why} (lifted by {by} on {})", when(at))),
            })
            .collect())
    }

    /// The account's timeline, newest first, naming the agency's users.
    pub async fn timeline_rows(
        accounts: &accounts::Accounts,
        user: &AgencyUser,
        account: domain::AccountId,
    ) -> Result<Vec<super::TimelineRow>, ServerFnError> {
        let names: std::collections::HashMap<String, String> = accounts
            .agency_user_names(user.agency)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|(id, name)| (domain::Actor::AgencyUser(id).to_string(), name))
            .collect();
        let mut rows: Vec<super::TimelineRow> = accounts
            .timeline(account)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|e| super::TimelineRow {
                at: when(e.at),
                kind: e.kind.to_string(),
                summary: e.summary,
                by: e.actor.map(|a| names.get(&a).cloned().unwrap_or(a)),
            })
            .collect();
        rows.reverse();
        Ok(rows)
    }

    pub fn row(e: &accounts::disputes::QueueEntry, today: chrono::NaiveDate) -> super::QueueRow {
        let d = &e.dispute;
        super::QueueRow {
            id: d.id,
            account_ref: e.account_ref.clone(),
            debtor: e.debtor.clone(),
            reason: d.reason.as_str().to_string(),
            opened: d.opened_at.date_naive().to_string(),
            age_days: (today - d.opened_at.date_naive()).num_days(),
            due: d.due_on.to_string(),
            overdue: today > d.due_on && d.answer.is_none(),
            within_validation: d.within_validation,
            duplicate_of: d.duplicate_of,
            evidence: d.files.iter().filter(|f| f.role == "evidence").count(),
            answered: d.answer.is_some(),
        }
    }
}

/// Signs an agency user in; a wrong or locked sign-in says so and changes nothing else.
#[server(prefix = "/agency/api")]
pub async fn agency_sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    use crate::portal::imp::{accounts, session, unavailable};
    use accounts::users::SignIn;
    let accounts = accounts()?;
    let limiter = use_context::<crate::RateLimit>();
    let s = session().await?;
    if let Some(limiter) = limiter {
        if !limiter.check().await {
            imp::set_flash(&s, "busy").await?;
            leptos_axum::redirect("/agency/sign-in");
            return Ok(());
        }
    }
    match accounts
        .sign_in(&email, &password)
        .await
        .map_err(unavailable)?
    {
        SignIn::Ok(user) => {
            // A new session id at sign-in defeats session fixation.
            s.cycle_id().await.map_err(unavailable)?;
            s.insert(imp::AGENCY_USER, user.id)
                .await
                .map_err(unavailable)?;
            leptos_axum::redirect("/agency/disputes");
        }
        SignIn::NeedsCode(id) => {
            s.insert(crate::security::imp::PENDING, (id, chrono::Utc::now()))
                .await
                .map_err(unavailable)?;
            leptos_axum::redirect("/agency/sign-in/code");
        }
        SignIn::Wrong => {
            imp::set_flash(&s, "wrong").await?;
            leptos_axum::redirect("/agency/sign-in");
        }
        SignIn::Locked(_) => {
            imp::set_flash(&s, "locked").await?;
            leptos_axum::redirect("/agency/sign-in");
        }
    }
    Ok(())
}

/// The sign-in page's flash.
#[server(prefix = "/agency/api")]
pub async fn agency_sign_in_state() -> Result<Option<String>, ServerFnError> {
    let s = crate::portal::imp::session().await?;
    imp::take_flash(&s).await
}

/// Ends the console session.
#[server(prefix = "/agency/api")]
pub async fn agency_sign_out() -> Result<(), ServerFnError> {
    let s = crate::portal::imp::session().await?;
    s.flush().await.map_err(crate::portal::imp::unavailable)?;
    leptos_axum::redirect("/agency/sign-in");
    Ok(())
}

/// The agency's open disputes, oldest first.
#[server(prefix = "/agency/api")]
pub async fn dispute_queue() -> Result<Option<(Me, Vec<QueueRow>)>, ServerFnError> {
    use crate::portal::imp::unavailable;
    let Some((accounts, _, user)) = imp::user().await? else {
        return Ok(None);
    };
    let me = imp::me(&accounts, &user).await?;
    let today = accounts.clock().now().date_naive();
    let rows = accounts
        .dispute_queue(user.agency)
        .await
        .map_err(unavailable)?
        .iter()
        .map(|e| imp::row(e, today))
        .collect();
    Ok(Some((me, rows)))
}

/// One dispute of the agency with its account's holds and timeline; `None` when it is
/// another agency's (or there is no such dispute).
#[server(prefix = "/agency/api")]
pub async fn console_dispute(id: i64) -> Result<Option<DisputeDetail>, ServerFnError> {
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = imp::user().await? else {
        return Ok(None);
    };
    let account = match accounts.dispute_account(user.agency, id).await {
        Ok(a) => a,
        Err(accounts::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(unavailable(e)),
    };
    let d = accounts.dispute(account, id).await.map_err(unavailable)?;
    let record = accounts.account(account).await.map_err(unavailable)?;
    let entry = accounts::disputes::QueueEntry {
        account_ref: record.account_ref.as_str().to_string(),
        debtor: format!("{} {}", record.name.first(), record.name.last()),
        dispute: d.clone(),
    };
    let when = imp::when;
    let holds = imp::hold_rows(&accounts, account).await?;
    let timeline = imp::timeline_rows(&accounts, &user, account).await?;
    Ok(Some(DisputeDetail {
        row: imp::row(&entry, accounts.clock().now().date_naive()),
        details: d.details.clone(),
        wants_original_creditor: d.wants_original_creditor,
        origin: d.origin.clone(),
        written: d.written,
        validation_end: d.validation_end.map(|e| e.to_string()),
        files: d
            .files
            .iter()
            .map(|f| ConsoleFile {
                href: format!("/agency/disputes/{}/files/{}", d.id, f.id),
                name: f.name.clone(),
                role: f.role.clone(),
            })
            .collect(),
        answer: d.answer.as_ref().map(|a| {
            (
                a.kind.as_str().to_string(),
                a.message.clone(),
                a.by.clone(),
                when(a.at),
            )
        }),
        original_creditor: d.answer.as_ref().and_then(|a| a.original_creditor.clone()),
        delivered: d
            .delivered
            .as_ref()
            .map(|(at, via)| (when(*at), via.clone())),
        holds,
        timeline,
        can_act: user.role.can_act(),
        flash: imp::take_flash(&s).await?,
    }))
}

/// Records that a dispute's answer was mailed: delivered, so its hold lifts.
#[server(prefix = "/agency/api")]
pub async fn mark_mailed(id: i64) -> Result<(), ServerFnError> {
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = imp::user().await? else {
        return Ok(());
    };
    let back = format!("/agency/disputes/{id}");
    if !user.role.can_act() {
        imp::set_flash(&s, "read_only").await?;
        leptos_axum::redirect(&back);
        return Ok(());
    }
    let flash = match accounts.dispute_account(user.agency, id).await {
        Ok(account) => {
            let delivery = accounts::disputes::Delivery::Mail;
            match accounts.deliver_dispute_answer(account, id, delivery).await {
                Ok(true) => {
                    let detail = format!("dispute {id}: answer recorded as mailed");
                    accounts
                        .audit(&user, "dispute_mailed", Some(account), &detail)
                        .await
                        .map_err(unavailable)?;
                    "mailed"
                }
                Ok(false) => "not_answered",
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(accounts::Error::NotFound(_)) => "not_found",
        Err(e) => return Err(unavailable(e)),
    };
    imp::set_flash(&s, flash).await?;
    leptos_axum::redirect(&back);
    Ok(())
}

/// Sets a hold on the account of dispute `id` (the page it was set from), with a reason.
#[server(prefix = "/agency/api")]
pub async fn set_hold(
    id: i64,
    kind: String,
    reason: String,
    contact: Option<String>,
) -> Result<(), ServerFnError> {
    change_hold(id, kind, reason, contact, true).await
}

/// Lifts a hold on the account of dispute `id`; a reason is required.
#[server(prefix = "/agency/api")]
pub async fn clear_hold(id: i64, kind: String, reason: String) -> Result<(), ServerFnError> {
    change_hold(id, kind, reason, None, false).await
}

#[cfg(feature = "ssr")]
async fn change_hold(
    id: i64,
    kind: String,
    reason: String,
    contact: Option<String>,
    set: bool,
) -> Result<(), ServerFnError> {
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = imp::user().await? else {
        return Ok(());
    };
    let back = format!("/agency/disputes/{id}");
    let flash = if !user.role.can_act() {
        "read_only"
    } else {
        let account = match accounts.dispute_account(user.agency, id).await {
            Ok(a) => a,
            Err(accounts::Error::NotFound(_)) => {
                imp::set_flash(&s, "not_found").await?;
                leptos_axum::redirect("/agency/disputes");
                return Ok(());
            }
            Err(e) => return Err(unavailable(e)),
        };
        let detail = format!(
            "{kind} hold: {}{}",
            reason.trim(),
            contact
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(|c| format!("; contact: {c}"))
                .unwrap_or_default()
        );
        let outcome = match kind.parse::<accounts::HoldKind>() {
            Err(_) => Err(accounts::Error::Invalid("kind".into())),
            Ok(kind) if set => accounts
                .set_hold(account, kind, &reason, contact.as_deref(), &user.actor())
                .await
                .map(|_| ()),
            Ok(kind) => {
                accounts
                    .clear_hold(account, kind, &reason, &user.actor())
                    .await
            }
        };
        if outcome.is_ok() {
            let action = if set { "hold_set" } else { "hold_cleared" };
            accounts
                .audit(&user, action, Some(account), &detail)
                .await
                .map_err(unavailable)?;
        }
        match outcome {
            Ok(()) if set => "hold_set",
            Ok(()) => "hold_cleared",
            Err(accounts::Error::Invalid(_) | accounts::Error::NotFound(_)) => "hold_invalid",
            Err(e) => return Err(unavailable(e)),
        }
    };
    imp::set_flash(&s, flash).await?;
    leptos_axum::redirect(&back);
    Ok(())
}
