//! The console's rules (server functions under `/agency/api`; admins change them): payment
//! terms per creditor (smallest payment, plans, settlements) and the agency's contact
//! policy, which may only be stricter than the law.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::agency::Me;

/// A plan's limits as the form shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanForm {
    /// The smallest instalment (e.g. `25.00`).
    pub min_instalment: String,
    /// The most instalments.
    pub max_instalments: u32,
    /// The longest a plan may run, in months.
    pub max_months: u32,
    /// `weekly`, `biweekly`, `monthly` allowed.
    pub frequencies: Vec<String>,
    /// The first instalment falls within this many days.
    pub first_within_days: u32,
}

/// One creditor's terms as the form shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsForm {
    /// The creditor (`""`: the agency's default).
    pub creditor: String,
    /// Terms are stored for it (otherwise the default's are shown, as they apply).
    pub stored: bool,
    /// The smallest one-time payment.
    pub min_payment: String,
    /// Plans, when offered.
    pub plan: Option<PlanForm>,
    /// Settlements, when offered: the smallest share in whole percent, days open.
    pub settlement: Option<(u32, u32)>,
}

/// The contact policy as the form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyForm {
    /// `HH:MM`.
    pub day_start: String,
    /// `HH:MM`.
    pub day_end: String,
    /// Texts per rolling 7 days.
    pub texts_per_7_days: u32,
    /// Calls per rolling 7 days.
    pub calls_per_7_days: u32,
    /// Minutes a reply may ignore the clock after the consumer wrote.
    pub reply_window_minutes: u32,
}

/// The rules page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesData {
    /// The user's header line.
    pub me: Me,
    /// Only an admin changes rules.
    pub can_edit: bool,
    /// The currency amounts are in.
    pub currency: String,
    /// The agency's default first, then each creditor.
    pub creditors: Vec<TermsForm>,
    /// The agency's policy now.
    pub policy: PolicyForm,
    /// The law's limits (the loosest allowed).
    pub law: PolicyForm,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod imp {
    use domain::compliance::Policy;
    use domain::payment::PaymentTerms;

    pub fn amount(m: domain::Money) -> String {
        accounts::reports::decimal(m.minor())
    }

    pub fn terms_form(creditor: String, stored: bool, t: &PaymentTerms) -> super::TermsForm {
        super::TermsForm {
            creditor,
            stored,
            min_payment: amount(t.min_payment),
            plan: t.plan.as_ref().map(|p| super::PlanForm {
                min_instalment: amount(p.min_instalment),
                max_instalments: p.max_instalments,
                max_months: p.max_months,
                frequencies: p
                    .frequencies
                    .iter()
                    .map(|f| f.as_str().to_string())
                    .collect(),
                first_within_days: p.first_within_days,
            }),
            settlement: t
                .settlement
                .as_ref()
                .map(|s| (s.min_share_bp / 100, s.valid_days)),
        }
    }

    pub fn policy_form(p: Policy) -> super::PolicyForm {
        super::PolicyForm {
            day_start: p.day_start.format("%H:%M").to_string(),
            day_end: p.day_end.format("%H:%M").to_string(),
            texts_per_7_days: p.texts_per_7_days,
            calls_per_7_days: p.calls_per_7_days,
            reply_window_minutes: p.reply_window_minutes,
        }
    }

    /// A whole number from a form field, or what is wrong with it.
    pub fn number(text: &str, what: &str) -> Result<u32, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("{what} must be a whole number"))
    }
}

/// The agency's payment terms per creditor and its contact policy.
#[server(prefix = "/agency/api")]
pub async fn rules_view() -> Result<Option<RulesData>, ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(None);
    };
    let currency = accounts
        .agency_currency(user.agency)
        .await
        .map_err(unavailable)?;
    let all = accounts
        .creditor_terms(user.agency)
        .await
        .map_err(unavailable)?;
    let default = all
        .iter()
        .find(|(c, _)| c.is_empty())
        .and_then(|(_, t)| t.clone())
        .unwrap_or_else(|| accounts::payments::default_terms(currency));
    let creditors = all
        .into_iter()
        .map(|(creditor, stored)| match stored {
            Some(t) => imp::terms_form(creditor, true, &t),
            None => imp::terms_form(creditor, false, &default),
        })
        .collect();
    let policy = accounts
        .agency_policy(user.agency)
        .await
        .map_err(unavailable)?;
    Ok(Some(RulesData {
        me: console::me(&accounts, &user).await?,
        can_edit: user.role == accounts::users::Role::Admin,
        currency: currency.to_string(),
        creditors,
        policy: imp::policy_form(policy),
        law: imp::policy_form(domain::compliance::Policy::default()),
        flash: console::take_flash(&s).await?,
    }))
}

/// Saves one creditor's payment terms (admins only); anything unusable changes nothing and
/// says why.
#[server(prefix = "/agency/api")]
#[allow(clippy::too_many_arguments)]
pub async fn save_terms(
    creditor: String,
    min_payment: String,
    plan: Option<String>,
    min_instalment: String,
    max_instalments: String,
    max_months: String,
    weekly: Option<String>,
    biweekly: Option<String>,
    monthly: Option<String>,
    first_within_days: String,
    settlement: Option<String>,
    min_share_percent: String,
    valid_days: String,
) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    use domain::payment::{Frequency, PaymentTerms, PlanRules, SettlementRule};
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if user.role != accounts::users::Role::Admin {
        "admin_only".to_string()
    } else {
        let currency = accounts
            .agency_currency(user.agency)
            .await
            .map_err(unavailable)?;
        // Only a creditor the page listed; what the form does not show (a convenience fee)
        // is kept as stored.
        let listed = accounts
            .creditor_terms(user.agency)
            .await
            .map_err(unavailable)?
            .into_iter()
            .find(|(c, _)| c == creditor.trim());
        let kept_fee = listed
            .as_ref()
            .and_then(|(_, t)| t.as_ref())
            .and_then(|t| t.convenience_fee);
        let money = |text: &str, what: &str| {
            domain::Money::parse(text.trim(), currency)
                .map_err(|_| format!("{what} is not an amount (e.g. 25.00)"))
        };
        let read = || -> Result<PaymentTerms, String> {
            let plan = match plan {
                None => None,
                Some(_) => Some(PlanRules {
                    min_instalment: money(&min_instalment, "the smallest instalment")?,
                    max_instalments: imp::number(&max_instalments, "the most instalments")?,
                    max_months: imp::number(&max_months, "the longest plan")?,
                    frequencies: [
                        (weekly, Frequency::Weekly),
                        (biweekly, Frequency::Biweekly),
                        (monthly, Frequency::Monthly),
                    ]
                    .into_iter()
                    .filter_map(|(on, f)| on.map(|_| f))
                    .collect(),
                    first_within_days: imp::number(
                        &first_within_days,
                        "the first instalment's days",
                    )?,
                }),
            };
            let settlement = match settlement {
                None => None,
                Some(_) => Some(SettlementRule {
                    min_share_bp: imp::number(&min_share_percent, "the smallest share")?
                        .saturating_mul(100),
                    valid_days: imp::number(&valid_days, "the days an offer stays open")?,
                }),
            };
            Ok(PaymentTerms {
                min_payment: money(&min_payment, "the smallest payment")?,
                plan,
                settlement,
                convenience_fee: None,
            })
        };
        match read() {
            _ if listed.is_none() => {
                "error:Nothing changed: there is no such creditor.".to_string()
            }
            Err(why) => format!("error:Nothing changed: {why}."),
            Ok(terms) => match accounts
                .set_creditor_terms(
                    &user,
                    &creditor,
                    &PaymentTerms {
                        convenience_fee: kept_fee,
                        ..terms
                    },
                )
                .await
            {
                Ok(()) => "terms_saved".to_string(),
                Err(accounts::Error::Invalid(why)) => format!("error:Nothing changed: {why}."),
                Err(e) => return Err(unavailable(e)),
            },
        }
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect("/agency/rules");
    Ok(())
}

/// Saves the agency's contact policy (admins only); a setting looser than the law is refused
/// with the reason.
#[server(prefix = "/agency/api")]
pub async fn save_policy(
    day_start: String,
    day_end: String,
    texts_per_7_days: String,
    calls_per_7_days: String,
    reply_window_minutes: String,
) -> Result<(), ServerFnError> {
    use crate::agency::imp as console;
    use crate::portal::imp::unavailable;
    let Some((accounts, s, user)) = console::user().await? else {
        return Ok(());
    };
    let flash = if user.role != accounts::users::Role::Admin {
        "admin_only".to_string()
    } else {
        let time = |text: &str, what: &str| {
            chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M")
                .map_err(|_| format!("{what} is not a time (HH:MM)"))
        };
        let read = || -> Result<domain::compliance::Policy, String> {
            Ok(domain::compliance::Policy {
                day_start: time(&day_start, "the earliest time")?,
                day_end: time(&day_end, "the latest time")?,
                texts_per_7_days: imp::number(&texts_per_7_days, "texts per 7 days")?,
                calls_per_7_days: imp::number(&calls_per_7_days, "calls per 7 days")?,
                reply_window_minutes: imp::number(&reply_window_minutes, "the reply window")?,
            })
        };
        match read() {
            Err(why) => format!("error:Nothing changed: {why}."),
            Ok(policy) => match accounts.set_policy(&user, policy).await {
                Ok(_) => "policy_saved".to_string(),
                Err(accounts::Error::Invalid(why)) => format!("error:Nothing changed: {why}."),
                Err(e) => return Err(unavailable(e)),
            },
        }
    };
    console::set_flash(&s, &flash).await?;
    leptos_axum::redirect("/agency/rules");
    Ok(())
}
