//! The console's reminder settings (server functions under `/agency/api`; admins change
//! them): the cadence (which message goes out how many days after placement, how often
//! after that, how early an instalment is announced, the help contact) and the text of
//! every message in English and Spanish, for the agency and for any creditor that wants its
//! own.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agency::Me;

/// One message kind's texts as the form shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateForm {
    /// The kind's stored name.
    pub kind: String,
    /// What the kind is for, in words.
    pub label: String,
    /// The English text in use.
    pub en: String,
    /// The Spanish text in use.
    pub es: String,
    /// The agency wrote its own text in at least one language.
    pub custom: bool,
    /// The text must carry `{link}`.
    pub needs_link: bool,
}

/// The reminders page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemindersData {
    /// The user's header line.
    pub me: Me,
    /// Only an admin changes them.
    pub can_edit: bool,
    /// Every creditor of the agency and whether it has its own settings.
    pub creditors: Vec<(String, bool)>,
    /// Whose settings are shown: a creditor, or `""` for the agency's.
    pub creditor: String,
    /// The creditor shown has its own settings (always true for the agency).
    pub own: bool,
    /// The steps: day after placement and kind (`validation_link` or `reminder`).
    pub steps: Vec<(u32, String)>,
    /// Days between reminders after the last step (`None`: no more).
    pub repeat_every_days: Option<u32>,
    /// Days before an instalment that it is announced (0: never).
    pub instalment_notice_days: u32,
    /// How a debtor reaches the agency (said in the HELP answer).
    pub help_contact: String,
    /// Every message kind's texts.
    pub templates: Vec<TemplateForm>,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

/// The kinds a step may send, with their labels.
pub const STEP_KINDS: [(&str, &str); 2] = [
    ("validation_link", "Validation notice link"),
    ("reminder", "Reminder"),
];

/// Blank step rows the form adds for new steps.
pub const SPARE_STEPS: usize = 2;

/// What a message kind is for, in words.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "validation_link" => "First message: link to the validation notice",
        "reminder" => "Reminder",
        "instalment_due" => "Plan instalment due soon",
        "instalment_failed" => "Plan instalment could not be charged",
        "plan_broken" => "Plan ended after missed instalments",
        "payment_receipt" => "Thank you for a payment",
        "opt_out_confirmation" => "Opt-out confirmation (STOP)",
        "opt_in_confirmation" => "Opt-in confirmation (START)",
        "help" => "Answer to HELP",
        "pay_link" => "Answer to PAY: a fresh link",
        "dispute_received" => "A dispute sent by text was received",
        "flag_received" => "Another reply was noted (lawyer, bankruptcy, wrong number...)",
        "dispute_answered" => "The answer to a dispute is ready",
        "agent_reply" => "An agent answered the debtor's message",
        _ => "Message",
    }
}

#[cfg(feature = "ssr")]
mod imp {
    use domain::messaging::{Cadence, CadenceStep, MessageKind};
    use domain::Language;

    /// The agency's creditors (by their accounts, terms or cadences) and whether each has
    /// its own cadence.
    pub async fn creditors(
        accounts: &accounts::Accounts,
        agency: domain::AgencyId,
    ) -> accounts::Result<Vec<(String, bool)>> {
        let own: std::collections::BTreeSet<String> = accounts
            .creditor_cadences(agency)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let mut all: std::collections::BTreeSet<String> = accounts
            .creditor_terms(agency)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| !c.is_empty())
            .collect();
        all.extend(own.iter().cloned());
        Ok(all
            .into_iter()
            .map(|c| (c.clone(), own.contains(&c)))
            .collect())
    }

    /// True for the agency (`""`) and each of its creditors.
    pub async fn listed(
        accounts: &accounts::Accounts,
        agency: domain::AgencyId,
        creditor: &str,
    ) -> Result<bool, leptos::prelude::ServerFnError> {
        Ok(creditor.is_empty()
            || creditors(accounts, agency)
                .await
                .map_err(crate::portal::imp::unavailable)?
                .iter()
                .any(|(c, _)| c == creditor))
    }

    /// The page of `creditor`'s settings (the agency's when empty).
    pub fn page(creditor: &str) -> String {
        if creditor.is_empty() {
            "/agency/reminders".into()
        } else {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("creditor", creditor)
                .finish();
            format!("/agency/reminders?{query}")
        }
    }

    pub fn kind(name: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn templates(c: &Cadence) -> Vec<super::TemplateForm> {
        MessageKind::ALL
            .into_iter()
            .map(|k| super::TemplateForm {
                kind: k.as_str().to_string(),
                label: super::kind_label(k.as_str()).to_string(),
                en: c.template(k, Language::En).to_string(),
                es: c.template(k, Language::Es).to_string(),
                custom: c.templates.get(&k).is_some_and(|m| !m.is_empty()),
                needs_link: domain::messaging::needs_link(k),
            })
            .collect()
    }

    /// The steps from the form's rows: a row with no day is dropped; the rest are sorted
    /// by day.
    pub fn steps(days: &[String], kinds: &[String]) -> Result<Vec<CadenceStep>, String> {
        let mut steps = Vec::new();
        for (i, day) in days.iter().enumerate() {
            let day = day.trim();
            if day.is_empty() {
                continue;
            }
            let day: u32 = day
                .parse()
                .map_err(|_| format!("step {}: the day must be a whole number", i + 1))?;
            let kind = kinds
                .get(i)
                .and_then(|k| kind(k.trim()))
                .ok_or_else(|| format!("step {}: choose what it sends", i + 1))?;
            steps.push(CadenceStep { day, kind });
        }
        steps.sort_by_key(|s| s.day);
        Ok(steps)
    }
}

/// The cadence and texts of `creditor` (the agency's when empty or not one of its
/// creditors).
#[server(prefix = "/agency/api")]
pub async fn reminders_view(creditor: String) -> Result<Option<RemindersData>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let creditors = imp::creditors(&accounts, user.agency)
        .await
        .map_err(unavailable)?;
    let (creditor, own) = match creditors.iter().find(|(c, _)| *c == creditor.trim()) {
        Some((c, own)) => (c.clone(), *own),
        None => (String::new(), true),
    };
    let cadence = accounts
        .cadence_for(user.agency, &creditor)
        .await
        .map_err(unavailable)?;
    Ok(Some(RemindersData {
        me: console::me(&accounts, &user).await?,
        can_edit: user.role == accounts::users::Role::Admin,
        creditors,
        creditor,
        own,
        steps: cadence
            .steps
            .iter()
            .map(|s| (s.day, s.kind.as_str().to_string()))
            .collect(),
        repeat_every_days: cadence.repeat_every_days,
        instalment_notice_days: cadence.instalment_notice_days,
        help_contact: cadence.help_contact.clone(),
        templates: imp::templates(&cadence),
        flash: console::take_flash(&s).await?,
    }))
}

/// Makes a creditor follow the agency's cadence and texts again (admins only).
#[server(prefix = "/agency/api")]
pub async fn use_agency_cadence(creditor: String) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if user.role != accounts::users::Role::Admin {
        "admin_only"
    } else if accounts
        .drop_creditor_cadence(&user, creditor.trim())
        .await
        .map_err(unavailable)?
    {
        "cadence_dropped"
    } else {
        "cadence_not_own"
    };
    console::set_flash(&s, flash).await?;
    leptos_axum::redirect(&imp::page(creditor.trim()));
    Ok(())
}

/// Saves the cadence of the agency or of one creditor (admins only), keeping the texts;
/// anything unusable changes nothing and says why. A row without a day is removed.
#[server(prefix = "/agency/api")]
pub async fn save_cadence(
    creditor: String,
    day: Vec<String>,
    step_kind: Vec<String>,
    repeat_every_days: String,
    instalment_notice_days: String,
    help_contact: String,
) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let creditor = creditor.trim().to_string();
    let listed = imp::listed(&accounts, user.agency, &creditor).await?;
    let flash = if user.role != accounts::users::Role::Admin {
        "admin_only".to_string()
    } else if !listed {
        "error:Nothing changed: there is no such creditor.".to_string()
    } else {
        let current = accounts
            .cadence_for(user.agency, &creditor)
            .await
            .map_err(unavailable)?;
        let read = || -> Result<domain::messaging::Cadence, String> {
            let repeat = repeat_every_days.trim();
            Ok(domain::messaging::Cadence {
                steps: imp::steps(&day, &step_kind)?,
                repeat_every_days: if repeat.is_empty() {
                    None
                } else {
                    Some(crate::rules::imp::number(
                        repeat,
                        "the days between later reminders",
                    )?)
                },
                instalment_notice_days: crate::rules::imp::number(
                    &instalment_notice_days,
                    "the days before an instalment",
                )?,
                help_contact: help_contact.trim().to_string(),
                templates: current.templates.clone(),
            })
        };
        match read() {
            Err(why) => format!("error:Nothing changed: {why}."),
            Ok(cadence) => match accounts.save_cadence(&user, &creditor, cadence).await {
                Ok(()) => "cadence_saved".to_string(),
                Err(accounts::Error::Invalid(why)) => format!("error:Nothing changed: {why}."),
                Err(e) => return Err(unavailable(e)),
            },
        }
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect(&imp::page(if listed { &creditor } else { "" }));
    Ok(())
}

/// Saves one message kind's texts for the agency or one creditor (admins only). A text
/// left empty, or the same as the built-in one, goes back to the built-in text; a text with
/// an unknown variable, or without the link it needs, changes nothing and says why.
#[server(prefix = "/agency/api")]
pub async fn save_template(
    creditor: String,
    kind: String,
    en: String,
    es: String,
) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    use domain::Language;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let creditor = creditor.trim().to_string();
    let listed = imp::listed(&accounts, user.agency, &creditor).await?;
    let flash = if user.role != accounts::users::Role::Admin {
        "admin_only".to_string()
    } else if !listed {
        "error:Nothing changed: there is no such creditor.".to_string()
    } else if let Some(kind) = imp::kind(kind.trim()) {
        let mut cadence = accounts
            .cadence_for(user.agency, &creditor)
            .await
            .map_err(unavailable)?;
        let mut own = std::collections::BTreeMap::new();
        for (language, text) in [(Language::En, &en), (Language::Es, &es)] {
            // Browsers send textarea line breaks as CRLF; a text message has no use for them.
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !text.is_empty() && text != kind.default_template(language) {
                own.insert(language.tag().to_string(), text);
            }
        }
        if own.is_empty() {
            cadence.templates.remove(&kind);
        } else {
            cadence.templates.insert(kind, own);
        }
        match accounts.save_cadence(&user, &creditor, cadence).await {
            Ok(()) => "template_saved".to_string(),
            Err(accounts::Error::Invalid(why)) => format!("error:Nothing changed: {why}."),
            Err(e) => return Err(unavailable(e)),
        }
    } else {
        "error:Nothing changed: there is no such message.".to_string()
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect(&imp::page(if listed { &creditor } else { "" }));
    Ok(())
}
