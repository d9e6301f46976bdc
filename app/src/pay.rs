//! Paying: in full or in part, a settlement, or a payment plan, through the configured
//! processor (Stripe, or the demo processor), and the receipt. Every form posts to a
//! server function that redirects, to the processor's page or back here, so the pages work
//! the same without JavaScript. No convenience fee is ever added (12 CFR 1006.22(b)).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the pay page offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayData {
    /// The collector's name.
    pub collector: String,
    /// Current balance, formatted.
    pub balance: String,
    /// Current balance as a plain decimal for the form (`912.50`).
    pub balance_plain: String,
    /// The smallest payment, formatted.
    pub min_payment: String,
    /// A settlement offer: amount, last day; or an accepted one still to be paid.
    pub settlement: Option<(String, String)>,
    /// Plans are offered for this debt.
    pub plans: bool,
    /// Something is owed.
    pub owes: bool,
    /// Flash: `amount`, `unavailable`, `cancelled`.
    pub flash: Option<String>,
}

/// A receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptData {
    /// Receipt number.
    pub number: i64,
    /// The collector.
    pub collector: String,
    /// The creditor.
    pub creditor: String,
    /// The account reference.
    pub account_ref: String,
    /// Amount, formatted.
    pub amount: String,
    /// `pending`, `succeeded`, `failed`.
    pub status: String,
    /// Date and time, UTC.
    pub date: String,
    /// Balance now, formatted.
    pub balance: String,
}

/// One instalment line: number, date, amount, status.
pub type InstalmentLine = (i64, String, String, String);

/// The plan page: the current plan, or the rules and a preview to choose one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanData {
    /// The current plan's status, if any plan is under way or ended.
    pub status: Option<String>,
    /// The authorization the debtor gave, word for word.
    pub authorization: Option<String>,
    /// The current plan's instalments.
    pub instalments: Vec<InstalmentLine>,
    /// The first date the next instalment may move to, and the last.
    pub move_range: Option<(String, String)>,
    /// Plans are offered.
    pub offered: bool,
    /// Frequencies allowed, by name.
    pub frequencies: Vec<String>,
    /// Most instalments.
    pub max_instalments: u32,
    /// Smallest instalment, formatted.
    pub min_instalment: String,
    /// Today and the latest first date (`YYYY-MM-DD`).
    pub first_range: (String, String),
    /// The debtor's choice so far: frequency, count, first date.
    pub chosen: (String, String, String),
    /// The schedule for the choice, with the authorization text to accept.
    pub preview: Option<(Vec<InstalmentLine>, String)>,
    /// Why the choice is not possible.
    pub preview_error: Option<String>,
    /// Flash: `saved`, `moved`, `cancelled`, `invalid`, `authorize`, `unavailable`.
    pub flash: Option<String>,
}

#[cfg(feature = "ssr")]
mod imp {
    use std::sync::Arc;

    use accounts::payments::PaymentGateway;
    use accounts::Accounts;
    use chrono::NaiveDate;
    use domain::payment::{Frequency, Instalment};
    use domain::{AccountId, Money};
    use leptos::prelude::*;

    use crate::i18n::Lang;

    /// The processor and the portal's public address, provided by the server.
    #[derive(Clone)]
    pub struct Payments {
        /// Stripe or the demo processor.
        pub gateway: Arc<dyn PaymentGateway>,
        /// The portal's public address, for return URLs.
        pub public_url: String,
    }

    /// Sends the debtor to the processor's page, or back to `back` with a flash when the
    /// page could not be opened (nothing was charged).
    pub async fn go_to_checkout(
        s: &tower_sessions::Session,
        started: accounts::Result<accounts::payments::Checkout>,
        back: &str,
    ) -> Result<(), ServerFnError> {
        match started {
            Ok(checkout) => leptos_axum::redirect(&checkout.url),
            Err(e) => {
                tracing::warn!("processor page not opened: {e}");
                crate::portal::imp::set_flash(s, "unavailable").await?;
                leptos_axum::redirect(back);
            }
        }
        Ok(())
    }

    pub fn payments() -> Result<Payments, ServerFnError> {
        use_context::<Payments>()
            .ok_or_else(|| crate::portal::imp::unavailable("no payment processor in context"))
    }

    /// Reads an amount typed by a person: `$1,234.50`, `1234.5`, `80`.
    pub fn parse_amount(text: &str, currency: domain::Currency) -> Option<Money> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, '$' | ',' | ' '))
            .collect();
        Money::parse(&cleaned, currency).ok()
    }

    pub fn plain(m: Money) -> String {
        format!("{}.{:02}", m.minor() / 100, m.minor().rem_euclid(100))
    }

    pub fn schedule_lines(schedule: &[Instalment]) -> Vec<super::InstalmentLine> {
        schedule
            .iter()
            .enumerate()
            .map(|(n, i)| {
                (
                    n as i64 + 1,
                    i.due.to_string(),
                    crate::portal::imp::money(i.amount),
                    String::new(),
                )
            })
            .collect()
    }

    /// The recurring-debit authorization (12 CFR 1005.10(b)) as the debtor reads and keeps
    /// it: who debits, how much and when, and how to stop.
    pub fn authorization_text(
        lang: Lang,
        collector: &str,
        frequency: Frequency,
        schedule: &[Instalment],
    ) -> String {
        let lines: Vec<String> = schedule
            .iter()
            .map(|i| format!("{} {}", i.due, crate::portal::imp::money(i.amount)))
            .collect();
        let total = schedule.iter().map(|i| i.amount.minor()).sum::<i64>();
        let total = Money::from_minor(total, schedule[0].amount.currency())
            .map(crate::portal::imp::money)
            .unwrap_or_default();
        match lang {
            Lang::En => format!(
                "I authorize {collector} to debit the payment method I save next, {n} times \
                 ({freq}), on the dates and in the amounts listed: {list}. Total {total}. \
                 No fee is added. I can change the date of a future payment or cancel this \
                 authorization on this site at any time before a payment's date; a payment \
                 already started cannot be stopped. This page keeps a copy of this \
                 authorization.",
                n = schedule.len(),
                freq = frequency.as_str(),
                list = lines.join("; "),
            ),
            Lang::Es => format!(
                "Autorizo a {collector} a debitar el método de pago que guarde a continuación, \
                 {n} veces ({freq}), en las fechas y por los montos indicados: {list}. Total \
                 {total}. No se agrega ningún cargo. Puedo cambiar la fecha de un pago futuro \
                 o cancelar esta autorización en este sitio en cualquier momento antes de la \
                 fecha de un pago; un pago ya iniciado no se puede detener. Esta página \
                 guarda una copia de esta autorización.",
                n = schedule.len(),
                freq = frequency.as_str(),
                list = lines.join("; "),
            ),
        }
    }

    /// The schedule for a choice made on the plan page, within the creditor's rules.
    pub async fn proposed(
        accounts: &Accounts,
        id: AccountId,
        frequency: &str,
        count: &str,
        first: &str,
    ) -> Result<(Frequency, Vec<Instalment>), String> {
        let frequency = Frequency::parse(frequency).ok_or("frequency")?;
        let count: u32 = count.trim().parse().map_err(|_| "count")?;
        let first =
            NaiveDate::parse_from_str(first.trim(), "%Y-%m-%d").map_err(|_| "first date")?;
        let terms = accounts
            .payment_terms(id)
            .await
            .map_err(|e| e.to_string())?;
        let balance = accounts.balance(id).await.map_err(|e| e.to_string())?;
        let today = accounts.clock().now().date_naive();
        let schedule = terms
            .schedule(balance, frequency, count, first, today)
            .map_err(|e| e.to_string())?;
        Ok((frequency, schedule))
    }
}

#[cfg(feature = "ssr")]
pub use imp::Payments;

/// The pay page's data.
#[server]
pub async fn pay_view() -> Result<Option<PayData>, ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let Some(id) = p::verified().await? else {
        return Ok(None);
    };
    let s = p::session().await?;
    let overview = accounts
        .account_overview(id)
        .await
        .map_err(p::unavailable)?;
    let terms = accounts.payment_terms(id).await.map_err(p::unavailable)?;
    let today = accounts.clock().now().date_naive();
    let balance = overview.balance;
    let accepted = accounts
        .settlement(id)
        .await
        .map_err(p::unavailable)?
        .filter(|s| s.status == "accepted" && s.valid_until >= today);
    let settlement = match accepted {
        Some(s) => Some((p::money(s.amount), s.valid_until.to_string())),
        None => terms
            .settlement_offer(balance, today)
            .ok()
            .map(|o| (p::money(o.amount), o.valid_until.to_string())),
    };
    let min = domain::Money::from_minor(
        terms.min_payment.minor().min(balance.minor()).max(1),
        balance.currency(),
    )
    .map_err(p::unavailable)?;
    Ok(Some(PayData {
        collector: overview.collector,
        balance: p::money(balance),
        balance_plain: imp::plain(balance),
        min_payment: p::money(min),
        settlement,
        plans: terms.plan.is_some() && balance.minor() > 0,
        owes: balance.minor() > 0,
        flash: p::take_flash(&s).await?,
    }))
}

/// Starts a payment of `amount` and sends the debtor to the processor's page.
#[server]
pub async fn pay(amount: String) -> Result<(), ServerFnError> {
    use crate::portal::imp as p;
    use accounts::payments::{NewPayment, Purpose};
    let accounts = p::accounts()?;
    let payments = imp::payments()?;
    let Some(id) = p::verified().await? else {
        return Ok(());
    };
    let s = p::session().await?;
    let balance = accounts.balance(id).await.map_err(p::unavailable)?;
    let terms = accounts.payment_terms(id).await.map_err(p::unavailable)?;
    let Some(amount) = imp::parse_amount(&amount, balance.currency())
        .filter(|a| terms.check_payment(*a, balance).is_ok())
    else {
        p::set_flash(&s, "amount").await?;
        leptos_axum::redirect("/pay");
        return Ok(());
    };
    let account = accounts.account(id).await.map_err(p::unavailable)?;
    let payment = NewPayment {
        account: id,
        purpose: Purpose::OneTime,
        amount,
        settlement_id: None,
        description: format!("{} {}", account.creditor, account.account_ref.as_str()),
    };
    let started = accounts
        .start_checkout(payments.gateway.as_ref(), &payment, &payments.public_url)
        .await
        .map(|(_, checkout)| checkout);
    imp::go_to_checkout(&s, started, "/pay").await
}

/// Accepts today's settlement offer (or the one already accepted) and sends the debtor to
/// pay it.
#[server]
pub async fn settle(agree: Option<String>) -> Result<(), ServerFnError> {
    use crate::portal::imp as p;
    use accounts::payments::{NewPayment, Purpose};
    let accounts = p::accounts()?;
    let payments = imp::payments()?;
    let Some(id) = p::verified().await? else {
        return Ok(());
    };
    let s = p::session().await?;
    if agree.is_none() {
        p::set_flash(&s, "settle_agree").await?;
        leptos_axum::redirect("/pay");
        return Ok(());
    }
    let today = accounts.clock().now().date_naive();
    let open = accounts
        .settlement(id)
        .await
        .map_err(p::unavailable)?
        .filter(|s| s.status == "accepted" && s.valid_until >= today);
    let settlement = match open {
        Some(s) => s,
        None => match accounts.accept_settlement(id, today).await {
            Ok(s) => s,
            Err(_) => {
                p::set_flash(&s, "unavailable").await?;
                leptos_axum::redirect("/pay");
                return Ok(());
            }
        },
    };
    let account = accounts.account(id).await.map_err(p::unavailable)?;
    let payment = NewPayment {
        account: id,
        purpose: Purpose::Settlement,
        amount: settlement.amount,
        settlement_id: Some(settlement.id),
        description: format!(
            "{} {} (settlement)",
            account.creditor,
            account.account_ref.as_str()
        ),
    };
    let started = accounts
        .start_checkout(payments.gateway.as_ref(), &payment, &payments.public_url)
        .await
        .map(|(_, checkout)| checkout);
    imp::go_to_checkout(&s, started, "/pay").await
}

/// A receipt, only for a payment of the signed-in debtor's own account.
#[server]
pub async fn receipt_view(number: i64) -> Result<Option<ReceiptData>, ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let Some(id) = p::verified().await? else {
        return Ok(None);
    };
    let payment = match accounts.payment(number).await {
        Ok(pay) if pay.account_id == id => pay,
        Ok(_) | Err(accounts::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(p::unavailable(e)),
    };
    let overview = accounts
        .account_overview(id)
        .await
        .map_err(p::unavailable)?;
    Ok(Some(ReceiptData {
        number: payment.id,
        collector: overview.collector,
        creditor: overview.record.creditor.clone(),
        account_ref: overview.record.account_ref.as_str().to_string(),
        amount: p::money(payment.amount),
        status: payment.status,
        date: payment.updated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        balance: p::money(overview.balance),
    }))
}

/// The plan page's data; `frequency`, `count` and `first` are the choice being previewed.
#[server]
pub async fn plan_view(
    frequency: Option<String>,
    count: Option<String>,
    first: Option<String>,
) -> Result<Option<PlanData>, ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let lang = crate::i18n::request_lang();
    let Some(id) = p::verified().await? else {
        return Ok(None);
    };
    let s = p::session().await?;
    let plan = accounts.plan(id).await.map_err(p::unavailable)?;
    let terms = accounts.payment_terms(id).await.map_err(p::unavailable)?;
    let today = accounts.clock().now().date_naive();
    let balance = accounts.balance(id).await.map_err(p::unavailable)?;
    let latest = terms.latest_first_date(today).unwrap_or(today);
    let live = plan
        .as_ref()
        .filter(|p| p.status == "active" || p.status == "awaiting_method");
    let move_range = live.and_then(|plan| {
        let rules = terms.plan.as_ref()?;
        let next = plan
            .instalments
            .iter()
            .position(|i| i.status == "scheduled")?;
        let schedule: Vec<_> = plan
            .instalments
            .iter()
            .map(|i| domain::payment::Instalment {
                due: i.due,
                amount: i.amount,
            })
            .collect();
        // The widest range the rules allow, found by asking them about its ends.
        let first = schedule.first().map(|i| i.due).unwrap_or(today);
        let end = first.checked_add_months(chrono::Months::new(rules.max_months))?;
        let ok = |d| domain::payment::move_instalment(&schedule, next, d, rules, today).is_ok();
        let lo = today.iter_days().take(400).find(|d| ok(*d))?;
        let hi = lo
            .iter_days()
            .take_while(|d| *d <= end)
            .filter(|d| ok(*d))
            .last()?;
        Some((lo.to_string(), hi.to_string()))
    });
    let chosen = (
        frequency.clone().unwrap_or_else(|| "monthly".into()),
        count.clone().unwrap_or_default(),
        first.clone().unwrap_or_else(|| today.to_string()),
    );
    let (preview, preview_error) = match (&frequency, &count, &first, live) {
        (Some(f), Some(c), Some(d), None) => match imp::proposed(&accounts, id, f, c, d).await {
            Ok((freq, schedule)) => {
                let collector = accounts
                    .account_overview(id)
                    .await
                    .map_err(p::unavailable)?
                    .collector;
                let text = imp::authorization_text(lang, &collector, freq, &schedule);
                (Some((imp::schedule_lines(&schedule), text)), None)
            }
            Err(e) => (None, Some(e)),
        },
        _ => (None, None),
    };
    let rules = terms.plan.as_ref();
    Ok(Some(PlanData {
        status: plan.as_ref().map(|p| p.status.clone()),
        authorization: plan.as_ref().map(|p| p.authorization.clone()),
        instalments: plan
            .as_ref()
            .map(|plan| {
                plan.instalments
                    .iter()
                    .map(|i| {
                        (
                            i.seq,
                            i.due.to_string(),
                            p::money(i.amount),
                            i.status.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        move_range,
        offered: rules.is_some() && balance.minor() > 0,
        frequencies: rules
            .map(|r| {
                r.frequencies
                    .iter()
                    .map(|f| f.as_str().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        max_instalments: rules.map(|r| r.max_instalments).unwrap_or(0),
        min_instalment: rules
            .map(|r| p::money(r.min_instalment))
            .unwrap_or_default(),
        first_range: (today.to_string(), latest.to_string()),
        chosen,
        preview,
        preview_error,
        flash: p::take_flash(&s).await?,
    }))
}

/// Creates the plan the debtor previewed and authorized, then sends them to save a payment
/// method.
#[server]
pub async fn start_plan(
    frequency: String,
    count: String,
    first: String,
    authorize: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let payments = imp::payments()?;
    let lang = crate::i18n::request_lang();
    let Some(id) = p::verified().await? else {
        return Ok(());
    };
    let s = p::session().await?;
    let back = format!("/plan?frequency={frequency}&count={count}&first={first}");
    let Ok((freq, schedule)) = imp::proposed(&accounts, id, &frequency, &count, &first).await
    else {
        p::set_flash(&s, "plan_invalid").await?;
        leptos_axum::redirect("/plan");
        return Ok(());
    };
    if authorize.is_none() {
        p::set_flash(&s, "authorize").await?;
        leptos_axum::redirect(&back);
        return Ok(());
    }
    let collector = accounts
        .account_overview(id)
        .await
        .map_err(p::unavailable)?
        .collector;
    let text = imp::authorization_text(lang, &collector, freq, &schedule);
    let started = accounts
        .create_plan(
            payments.gateway.as_ref(),
            id,
            freq,
            &schedule,
            &text,
            &payments.public_url,
        )
        .await
        .map(|(_, checkout)| checkout);
    imp::go_to_checkout(&s, started, &back).await
}

/// Moves the next instalment to `date` (today pays it early).
#[server]
pub async fn move_instalment(date: String) -> Result<(), ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let Some(id) = p::verified().await? else {
        return Ok(());
    };
    let s = p::session().await?;
    let today = accounts.clock().now().date_naive();
    let moved = match chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d") {
        Ok(d) => accounts.move_next_instalment(id, d, today).await.is_ok(),
        Err(_) => false,
    };
    p::set_flash(&s, if moved { "moved" } else { "move_invalid" }).await?;
    leptos_axum::redirect("/plan");
    Ok(())
}

/// Sets a new amount for each remaining instalment, after the debtor ticks to authorize it.
#[server]
pub async fn change_amount(amount: String, authorize: Option<String>) -> Result<(), ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let lang = crate::i18n::request_lang();
    let Some(id) = p::verified().await? else {
        return Ok(());
    };
    let s = p::session().await?;
    if authorize.is_none() {
        p::set_flash(&s, "authorize").await?;
        leptos_axum::redirect("/plan");
        return Ok(());
    }
    let balance = accounts.balance(id).await.map_err(p::unavailable)?;
    let Some(amount) = imp::parse_amount(&amount, balance.currency()) else {
        p::set_flash(&s, "amount_change_invalid").await?;
        leptos_axum::redirect("/plan");
        return Ok(());
    };
    let today = accounts.clock().now().date_naive();
    let amendment = match lang {
        crate::i18n::Lang::En => format!(
            "On {today} I authorized {} for each remaining payment, on the dates shown on this page.",
            p::money(amount)
        ),
        crate::i18n::Lang::Es => format!(
            "El {today} autoricé {} por cada pago restante, en las fechas que muestra esta página.",
            p::money(amount)
        ),
    };
    let changed = accounts
        .change_instalment_amount(id, amount, &amendment)
        .await
        .is_ok();
    p::set_flash(
        &s,
        if changed {
            "amount_changed"
        } else {
            "amount_change_invalid"
        },
    )
    .await?;
    leptos_axum::redirect("/plan");
    Ok(())
}

/// Sends the debtor to save a different card for their active plan.
#[server]
pub async fn replace_card() -> Result<(), ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let payments = imp::payments()?;
    let Some(id) = p::verified().await? else {
        return Ok(());
    };
    let s = p::session().await?;
    let started = accounts
        .replace_plan_method(payments.gateway.as_ref(), id, &payments.public_url)
        .await;
    imp::go_to_checkout(&s, started, "/plan").await
}

/// Cancels the plan: no further instalment is charged.
#[server]
pub async fn cancel_plan(confirm: Option<String>) -> Result<(), ServerFnError> {
    use crate::portal::imp as p;
    let accounts = p::accounts()?;
    let Some(id) = p::verified().await? else {
        return Ok(());
    };
    let s = p::session().await?;
    if confirm.is_none() {
        p::set_flash(&s, "cancel_confirm").await?;
    } else {
        accounts.cancel_plan(id).await.map_err(p::unavailable)?;
        p::set_flash(&s, "plan_cancelled").await?;
    }
    leptos_axum::redirect("/plan");
    Ok(())
}
