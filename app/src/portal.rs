//! The portal's server functions: thin (session → one accounts call → a view model). They
//! redirect after every change, so a plain form post without JavaScript and an `ActionForm`
//! with it end on the same page with the same result.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the debtor stands with the identity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyInfo {
    /// An account was chosen (by link or reference).
    pub chosen: bool,
    /// The outcome of the last try: `wrong`, `locked`, `busy`, `link` (bad link).
    pub flash: Option<String>,
}

/// One line of the itemization or history, already formatted on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Label or date.
    pub label: String,
    /// Formatted amount.
    pub amount: String,
}

/// Everything the account page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountData {
    /// The debt collector.
    pub collector: String,
    /// The creditor.
    pub creditor: String,
    /// The original creditor, when different.
    pub original_creditor: Option<String>,
    /// The reference.
    pub account_ref: String,
    /// Current balance, formatted.
    pub balance: String,
    /// Itemization date (ISO).
    pub itemization_date: String,
    /// Amount at itemization, interest, fees, payments, credits, current amount.
    pub itemization: [String; 6],
    /// Ledger entries: date, kind, amount.
    pub history: Vec<(String, String, String)>,
    /// The validation notice was delivered and when the validation period ends.
    pub validation_end: Option<String>,
    /// The latest plan's status, if any.
    pub plan_status: Option<String>,
    /// The next instalment of an active plan: date and amount.
    pub plan_next: Option<(String, String)>,
    /// Something is owed, so paying makes sense.
    pub owes: bool,
    /// A Telegram bot is configured: offer to connect a chat.
    pub telegram: bool,
    /// The account's disputes, oldest first.
    pub disputes: Vec<crate::disputes::DisputeSummary>,
}

/// Current contact preferences for the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferencesData {
    /// Inconvenient range start, `HH:MM` or empty.
    pub from: String,
    /// Inconvenient range end, `HH:MM` or empty.
    pub to: String,
    /// Channels refused, by wire name.
    pub refused: Vec<String>,
    /// SMS opted out.
    pub sms_stopped: bool,
    /// The phone to use, E.164, or empty.
    pub phone: String,
    /// The email to use, or empty.
    pub email: String,
    /// The account's language tag.
    pub language: String,
    /// Flash: `saved` or `invalid`.
    pub flash: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod imp {
    use accounts::Accounts;
    use domain::{AccountId, Money};
    use leptos::prelude::*;
    use tower_sessions::Session;

    pub use crate::session_keys::{ACCOUNT, FLASH, VERIFIED};
    const SEEN: &str = "portal.seen";

    pub fn unavailable(e: impl std::fmt::Display) -> ServerFnError {
        tracing::error!("portal: {e}");
        ServerFnError::new("unavailable")
    }

    pub async fn session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|e| unavailable(format!("no session layer: {e:?}")))
    }

    /// The backend, read before the first await: a request the client abandoned may lose
    /// its reactive owner at an await point, and then no context is left to read.
    pub fn accounts() -> Result<Accounts, ServerFnError> {
        use_context::<Accounts>().ok_or_else(|| unavailable("no accounts backend in context"))
    }

    /// Reads and clears the flash. `remove` alone would mark every session changed and
    /// cost a write on every page view.
    pub async fn take_flash(s: &Session) -> Result<Option<String>, ServerFnError> {
        if s.get_value(FLASH).await.map_err(unavailable)?.is_none() {
            return Ok(None);
        }
        s.remove::<String>(FLASH).await.map_err(unavailable)
    }

    pub async fn set_flash(s: &Session, flash: &str) -> Result<(), ServerFnError> {
        s.insert(FLASH, flash).await.map_err(unavailable)
    }

    /// The verified account of this session; otherwise redirects to the identity check.
    pub async fn verified() -> Result<Option<AccountId>, ServerFnError> {
        let s = session().await?;
        let verified = s.get::<bool>(VERIFIED).await.map_err(unavailable)? == Some(true);
        let account = s.get::<i64>(ACCOUNT).await.map_err(unavailable)?;
        match account {
            Some(id) if verified => {
                touch(&s).await?;
                Ok(Some(AccountId(id)))
            }
            _ => {
                leptos_axum::redirect("/verify");
                Ok(None)
            }
        }
    }

    /// Writes the account's language into the language cookie unless the debtor already
    /// chose one with the switch.
    pub async fn language_from_account(
        accounts: &Accounts,
        parts: Option<http::request::Parts>,
        resp: Option<leptos_axum::ResponseOptions>,
        id: AccountId,
    ) -> Result<(), ServerFnError> {
        let chosen = parts
            .as_ref()
            .and_then(|p| p.headers.get(http::header::COOKIE))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains(crate::i18n::LANG_COOKIE));
        if chosen {
            return Ok(());
        }
        let language = accounts.account(id).await.map_err(unavailable)?.language;
        let cookie = crate::i18n::Lang::from_domain(language).cookie();
        if let (Some(resp), Ok(value)) = (resp, http::HeaderValue::from_str(&cookie)) {
            resp.append_header(http::header::SET_COOKIE, value);
        }
        Ok(())
    }

    /// Marks the session active. A change is what renews the idle expiry; writing at most
    /// once a minute keeps page views from costing a database write each.
    async fn touch(s: &Session) -> Result<(), ServerFnError> {
        let now = chrono::Utc::now().timestamp();
        let seen = s.get::<i64>(SEEN).await.map_err(unavailable)?.unwrap_or(0);
        if now - seen >= 60 {
            s.insert(SEEN, now).await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// `$1,234.56` for dollars, `1,234.56 EUR` otherwise ([`Money::for_people`]).
    pub fn money(m: Money) -> String {
        m.for_people()
    }
}

/// Chooses the account by the reference printed on a letter. Whether it exists is not
/// revealed: the debtor always goes on to the identity check.
#[server]
pub async fn start_with_reference(reference: String) -> Result<(), ServerFnError> {
    let accounts = imp::accounts()?;
    let s = imp::session().await?;
    s.cycle_id().await.map_err(imp::unavailable)?;
    s.remove::<bool>(imp::VERIFIED)
        .await
        .map_err(imp::unavailable)?;
    let mut found = None;
    if let Ok(r) = domain::AccountRef::parse(reference.trim()) {
        for agency in accounts.agencies().await.map_err(imp::unavailable)? {
            if let Some(a) = accounts
                .account_by_ref(agency.id, &r)
                .await
                .map_err(imp::unavailable)?
            {
                found = Some(a.id.0);
                break;
            }
        }
    }
    // An unknown reference is remembered as "no account" so the check fails the same way.
    s.insert(imp::ACCOUNT, found.unwrap_or(0))
        .await
        .map_err(imp::unavailable)?;
    // A page an earlier link pointed at belongs to that link, not to this reference.
    s.remove::<String>(crate::session_keys::NEXT)
        .await
        .map_err(imp::unavailable)?;
    leptos_axum::redirect("/verify");
    Ok(())
}

/// The identity check page's state.
#[server]
pub async fn verify_state() -> Result<VerifyInfo, ServerFnError> {
    let s = imp::session().await?;
    let chosen = s
        .get::<i64>(imp::ACCOUNT)
        .await
        .map_err(imp::unavailable)?
        .is_some();
    Ok(VerifyInfo {
        chosen,
        flash: imp::take_flash(&s).await?,
    })
}

/// Checks date of birth and ZIP code against the chosen account.
#[server]
pub async fn verify(dob: String, zip: String) -> Result<(), ServerFnError> {
    use accounts::portal::Verification;
    let accounts = imp::accounts()?;
    let limiter = use_context::<crate::RateLimit>();
    let parts = use_context::<http::request::Parts>();
    let resp = use_context::<leptos_axum::ResponseOptions>();
    let s = imp::session().await?;
    let Some(account) = s.get::<i64>(imp::ACCOUNT).await.map_err(imp::unavailable)? else {
        leptos_axum::redirect("/");
        return Ok(());
    };
    if let Some(limiter) = limiter {
        if !limiter.check().await {
            imp::set_flash(&s, "busy").await?;
            leptos_axum::redirect("/verify");
            return Ok(());
        }
    }
    let date = chrono::NaiveDate::parse_from_str(dob.trim(), "%Y-%m-%d").ok();
    let outcome = match (account, date) {
        (id, Some(date)) if id > 0 => accounts
            .verify_identity(domain::AccountId(id), date, &zip)
            .await
            .map_err(imp::unavailable)?,
        _ => Verification::Wrong { remaining: 0 },
    };
    match outcome {
        Verification::Verified => {
            // A new session id at the privilege change defeats session fixation.
            s.cycle_id().await.map_err(imp::unavailable)?;
            s.insert(imp::VERIFIED, true)
                .await
                .map_err(imp::unavailable)?;
            imp::language_from_account(&accounts, parts, resp, domain::AccountId(account)).await?;
            let next: Option<String> = s
                .remove(crate::session_keys::NEXT)
                .await
                .map_err(imp::unavailable)?;
            leptos_axum::redirect(next.as_deref().unwrap_or("/account"));
        }
        Verification::Wrong { .. } => {
            imp::set_flash(&s, "wrong").await?;
            leptos_axum::redirect("/verify");
        }
        Verification::Locked { .. } => {
            imp::set_flash(&s, "locked").await?;
            leptos_axum::redirect("/verify");
        }
    }
    Ok(())
}

/// The verified account's page data; redirects to the identity check otherwise.
#[server]
pub async fn account_view() -> Result<Option<AccountData>, ServerFnError> {
    let accounts = imp::accounts()?;
    let telegram = use_context::<crate::TelegramEnabled>().is_some();
    let Some(id) = imp::verified().await? else {
        return Ok(None);
    };
    let overview = accounts
        .account_overview(id)
        .await
        .map_err(imp::unavailable)?;
    let a = &overview.record;
    let (collector, balance, postings, notice) = (
        overview.collector.clone(),
        overview.balance,
        &overview.postings,
        overview.notice.clone(),
    );
    let disputes = accounts
        .disputes(id)
        .await
        .map_err(imp::unavailable)?
        .iter()
        .map(crate::disputes::imp::summary)
        .collect();
    let i = &a.itemization;
    Ok(Some(AccountData {
        collector,
        creditor: a.creditor.clone(),
        original_creditor: a.original_creditor.clone(),
        account_ref: a.account_ref.as_str().to_string(),
        balance: imp::money(balance),
        itemization_date: i.date().to_string(),
        itemization: [
            imp::money(i.balance_at_itemization()),
            imp::money(i.interest_since()),
            imp::money(i.fees_since()),
            imp::money(i.payments_since()),
            imp::money(i.credits_since()),
            imp::money(i.current()),
        ],
        history: postings
            .iter()
            .map(|p| {
                (
                    p.posted_at.date_naive().to_string(),
                    p.posting.kind().as_str().to_string(),
                    imp::money(p.posting.amount()),
                )
            })
            .collect(),
        validation_end: notice.map(|n| n.validation_end.to_string()),
        plan_status: overview.plan_status.clone(),
        plan_next: overview
            .plan_next
            .map(|(d, m)| (d.to_string(), imp::money(m))),
        owes: balance.minor() > 0,
        telegram,
        disputes,
    }))
}

/// Records E-SIGN consent and the electronic delivery of the validation notice.
#[server]
pub async fn consent_to_notice(agree: Option<String>) -> Result<(), ServerFnError> {
    let accounts = imp::accounts()?;
    let lang = crate::i18n::request_lang();
    let Some(id) = imp::verified().await? else {
        return Ok(());
    };
    let s = imp::session().await?;
    if agree.is_none() {
        imp::set_flash(&s, "consent_required").await?;
        leptos_axum::redirect("/notice");
        return Ok(());
    }
    accounts
        .record_notice_delivery(
            id,
            lang.to_domain(),
            crate::i18n::t(lang, crate::i18n::Msg::EsignConsent),
        )
        .await
        .map_err(imp::unavailable)?;
    leptos_axum::redirect("/notice");
    Ok(())
}

/// The flash message of the notice page, if any.
#[server]
pub async fn notice_flash() -> Result<Option<String>, ServerFnError> {
    let s = imp::session().await?;
    imp::take_flash(&s).await
}

/// The current contact preferences.
#[server]
pub async fn preferences_view() -> Result<Option<PreferencesData>, ServerFnError> {
    use domain::compliance::Channel;
    let accounts = imp::accounts()?;
    let Some(id) = imp::verified().await? else {
        return Ok(None);
    };
    let s = imp::session().await?;
    let (_, question) = accounts
        .contact_question(
            id,
            Channel::Sms,
            domain::compliance::Purpose::Reminder,
            accounts.clock().now(),
        )
        .await
        .map_err(imp::unavailable)?;
    let account = accounts.account(id).await.map_err(imp::unavailable)?;
    let range = question.consumer.inconvenient_times.first();
    Ok(Some(PreferencesData {
        from: range
            .map(|r| r.from().format("%H:%M").to_string())
            .unwrap_or_default(),
        to: range
            .map(|r| r.to().format("%H:%M").to_string())
            .unwrap_or_default(),
        refused: question
            .consumer
            .refused_channels
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        sms_stopped: question.consumer.opted_out.contains(Channel::Sms),
        phone: account
            .phone
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        email: account
            .email
            .map(|e| e.as_str().to_string())
            .unwrap_or_default(),
        language: account.language.tag().to_string(),
        flash: imp::take_flash(&s).await?,
    }))
}

/// Saves contact preferences from the form. Unticked boxes are absent from a plain post.
/// Every field is checked before anything is written, so a typo changes nothing.
#[server]
#[allow(clippy::too_many_arguments)]
pub async fn save_preferences(
    from: Option<String>,
    to: Option<String>,
    refuse_sms: Option<String>,
    refuse_email: Option<String>,
    refuse_call: Option<String>,
    refuse_telegram: Option<String>,
    stop_sms: Option<String>,
    start_sms: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    language: Option<String>,
) -> Result<(), ServerFnError> {
    use accounts::{ConsentChange, ContactPreferences};
    use domain::compliance::{Channel, LocalRange};
    use domain::{Email, PhoneE164};
    let accounts = imp::accounts()?;
    let Some(id) = imp::verified().await? else {
        return Ok(());
    };
    let s = imp::session().await?;
    let invalid = |flash: &'static str| {
        let s = s.clone();
        async move {
            imp::set_flash(&s, flash).await?;
            leptos_axum::redirect("/preferences");
            Ok::<(), ServerFnError>(())
        }
    };
    let from = from.unwrap_or_default();
    let to = to.unwrap_or_default();
    let ranges = match (from.trim(), to.trim()) {
        ("", "") => Vec::new(),
        (f, t) => match LocalRange::parse(f, t) {
            Ok(r) => vec![r],
            Err(_) => return invalid("invalid").await,
        },
    };
    let phone = match phone.as_deref().map(str::trim).unwrap_or_default() {
        "" => None,
        p => match PhoneE164::parse(p) {
            Ok(p) => Some(p),
            Err(_) => return invalid("phone_invalid").await,
        },
    };
    let email = match email.as_deref().map(str::trim).unwrap_or_default() {
        "" => None,
        e => match Email::parse(e) {
            Ok(e) => Some(e),
            Err(_) => return invalid("email_invalid").await,
        },
    };
    let current = accounts
        .contact_preferences(id)
        .await
        .map_err(imp::unavailable)?;
    accounts
        .set_contact_preferences(
            id,
            &ContactPreferences {
                time_zone: current.time_zone,
                inconvenient_times: ranges,
            },
        )
        .await
        .map_err(imp::unavailable)?;
    accounts
        .set_contact_details(id, phone.as_ref(), email.as_ref())
        .await
        .map_err(imp::unavailable)?;
    for (channel, refused) in [
        (Channel::Sms, refuse_sms.is_some()),
        (Channel::Email, refuse_email.is_some()),
        (Channel::Call, refuse_call.is_some()),
        (Channel::Telegram, refuse_telegram.is_some()),
    ] {
        let change = if refused {
            ConsentChange::Refuse
        } else {
            ConsentChange::Unrefuse
        };
        accounts
            .change_consent(id, channel, change, "portal")
            .await
            .map_err(imp::unavailable)?;
    }
    // Two separate boxes, never one: an opt-out is lifted only by ticking "start", so a box
    // left unticked can never opt anyone back in.
    let sms = if stop_sms.is_some() {
        Some(ConsentChange::OptOut)
    } else if start_sms.is_some() {
        Some(ConsentChange::Consent)
    } else {
        None
    };
    if let Some(change) = sms {
        accounts
            .change_consent(id, Channel::Sms, change, "portal")
            .await
            .map_err(imp::unavailable)?;
    }
    if let Some(lang) = language.as_deref().and_then(crate::i18n::Lang::from_tag) {
        accounts
            .set_language(id, lang.to_domain())
            .await
            .map_err(imp::unavailable)?;
    }
    imp::set_flash(&s, "saved").await?;
    leptos_axum::redirect("/preferences");
    Ok(())
}

/// Ends the session.
#[server]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let s = imp::session().await?;
    s.flush().await.map_err(imp::unavailable)?;
    leptos_axum::redirect("/?signed_out=1");
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use domain::{Currency, Money};

    #[test]
    fn amounts_are_written_the_way_debtors_read_them() {
        let m = |minor, c| super::imp::money(Money::from_minor(minor, c).unwrap());
        assert_eq!(m(781_919, Currency::USD), "$7,819.19");
        assert_eq!(m(5, Currency::USD), "$0.05");
        assert_eq!(m(-123_456_789, Currency::USD), "-$1,234,567.89");
        assert_eq!(m(100_000, Currency::EUR), "1,000.00 EUR");
    }
}
