//! The console's inbox (server functions under `/agency/api`): free-text replies from text
//! messages and Telegram that need a person; assign, answer through the compliance engine,
//! close.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agency::Me;

/// A message as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRow {
    /// Its id.
    pub id: i64,
    /// When it arrived.
    pub received: String,
    /// `sms` or `telegram`.
    pub channel: String,
    /// The account reference and the debtor's name, or the sender when no account matched.
    pub from: String,
    /// The words.
    pub body: String,
    /// Who has it.
    pub assigned: Option<String>,
    /// Answered (who, when, the answer's delivery status).
    pub answered: Option<String>,
}

/// The inbox page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRows {
    /// The user's header line.
    pub me: Me,
    /// `open`, `mine` or `closed`.
    pub view: String,
    /// Newest first.
    pub rows: Vec<InboxRow>,
}

/// One message of the inbox with what can be done to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxDetail {
    /// The user's header line.
    pub me: Me,
    /// The message.
    pub row: InboxRow,
    /// What the system understood and did.
    pub understood: String,
    /// The account's id, when one matched.
    pub account: Option<i64>,
    /// Open (not closed).
    pub open: bool,
    /// Who closed it and when.
    pub closed: Option<String>,
    /// The agency's users: id and name, for assigning.
    pub users: Vec<(i64, String)>,
    /// The assigned user's id.
    pub assigned_id: Option<i64>,
    /// The signed-in user may act.
    pub can_act: bool,
    /// A fresh key for the answer form, so a resubmitted form queues once.
    pub answer_key: String,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

#[cfg(feature = "ssr")]
mod imp {
    use crate::agency::imp::when;

    pub fn row(m: &accounts::messaging::InboxItem) -> super::InboxRow {
        super::InboxRow {
            id: m.id,
            received: when(m.received_at),
            channel: m.channel.clone(),
            from: match &m.account {
                Some((_, reference, name)) => format!("{reference} · {name}"),
                None => format!("{} (no account)", m.sender),
            },
            body: m.body.clone(),
            assigned: m.assigned_to.as_ref().map(|(_, n)| n.clone()),
            answered: m
                .answered
                .as_ref()
                .map(|(_, at, status)| format!("answered {} ({status})", when(*at))),
        }
    }
}

/// The agency's inbox: `view` is `open` (the default), `mine` or `closed`.
#[server(prefix = "/agency/api")]
pub async fn inbox_list(view: Option<String>) -> Result<Option<InboxRows>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    use accounts::messaging::InboxView;
    let Some((accounts, _, user)) = console::user().await? else {
        return Ok(None);
    };
    let (name, view) = match view.as_deref() {
        Some("mine") => ("mine", InboxView::Mine(user.id)),
        Some("closed") => ("closed", InboxView::Closed),
        _ => ("open", InboxView::Open),
    };
    let rows = accounts
        .agency_inbox(user.agency, view, 200)
        .await
        .map_err(unavailable)?
        .iter()
        .map(imp::row)
        .collect();
    Ok(Some(InboxRows {
        me: console::me(&accounts, &user).await?,
        view: name.to_string(),
        rows,
    }))
}

/// One message of the agency's inbox; `None` when it is not the agency's.
#[server(prefix = "/agency/api")]
pub async fn inbox_message(id: i64) -> Result<Option<InboxDetail>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let Some(m) = accounts
        .inbox_item(user.agency, id)
        .await
        .map_err(unavailable)?
    else {
        return Ok(None);
    };
    let users = accounts
        .agency_user_names(user.agency)
        .await
        .map_err(unavailable)?;
    let name_of = |actor: &str| {
        users
            .iter()
            .find(|(id, _)| domain::Actor::AgencyUser(*id).to_string() == actor)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| actor.to_string())
    };
    Ok(Some(InboxDetail {
        me: console::me(&accounts, &user).await?,
        row: imp::row(&m),
        understood: format!("{}: {}", m.intent, m.action),
        account: m.account.as_ref().map(|(a, ..)| a.0),
        open: m.state == "open",
        closed: m
            .closed
            .as_ref()
            .map(|(by, at)| format!("closed by {} on {}", name_of(by), console::when(*at))),
        users: users.clone(),
        assigned_id: m.assigned_to.as_ref().map(|(id, _)| *id),
        can_act: user.role.can_act(),
        answer_key: accounts::console::form_key(),
        flash: console::take_flash(&s).await?,
    }))
}

/// The outcome of an inbox form as the page's flash.
#[cfg(feature = "ssr")]
fn flash_of(result: accounts::Result<&'static str>) -> Result<String, ServerFnError> {
    match result {
        Ok(flash) => Ok(flash.to_string()),
        Err(accounts::Error::NotFound(_)) => Ok("inbox_missing".into()),
        Err(accounts::Error::Invalid(why)) => Ok(format!("error:Nothing changed: {why}.")),
        Err(e) => Err(crate::portal::imp::unavailable(e)),
    }
}

/// Assigns a message to a user of the agency (`to` empty: nobody).
#[server(prefix = "/agency/api")]
pub async fn assign_message(id: i64, to: String) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if !user.role.can_act() {
        "read_only".to_string()
    } else {
        let to = to.trim().parse::<i64>().ok();
        flash_of(
            accounts
                .assign_inbox(&user, id, to)
                .await
                .map(|()| "inbox_assigned"),
        )?
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect(&format!("/agency/inbox/{id}"));
    Ok(())
}

/// Answers a message in the agent's words, if the compliance engine allows it now.
#[server(prefix = "/agency/api")]
pub async fn answer_message(id: i64, text: String, key: String) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use accounts::messaging::{InboxAnswer, LinkSettings};
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if !user.role.can_act() {
        "read_only".to_string()
    } else {
        let links = use_context::<LinkSettings>()
            .ok_or_else(|| ServerFnError::new("link settings are not configured"))?;
        match accounts
            .answer_inbox(&user, id, &text, &key, &links)
            .await
        {
            Ok(InboxAnswer::Queued(_)) => "inbox_answered".to_string(),
            Ok(InboxAnswer::Repeat) => "inbox_repeat".to_string(),
            Ok(InboxAnswer::Refused { verdict, reasons }) => format!(
                "error:Not sent: the compliance engine says {verdict} now ({}). The decision is logged in the account's timeline.",
                reasons.join(", ")
            ),
            Err(e) => flash_of(Err(e))?,
        }
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect(&format!("/agency/inbox/{id}"));
    Ok(())
}

/// Closes a message: dealt with.
#[server(prefix = "/agency/api")]
pub async fn close_message(id: i64) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if !user.role.can_act() {
        "read_only".to_string()
    } else {
        flash_of(
            accounts
                .close_inbox(&user, id)
                .await
                .map(|()| "inbox_closed"),
        )?
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect(&format!("/agency/inbox/{id}"));
    Ok(())
}
