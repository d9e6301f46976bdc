//! The dispute pages' server functions. Opening a dispute and adding a document are plain
//! multipart posts to the server's `/dispute` routes (files do not fit a server function's
//! form encoding); reading a dispute and taking delivery of its answer are here.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One dispute in the account page's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeSummary {
    /// Its id.
    pub id: i64,
    /// The date it was recorded (ISO).
    pub opened: String,
    /// `open`, `answer_waiting`, `answered` or `closed`.
    pub status: String,
}

/// A file shown on the dispute page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLink {
    /// Where to download it.
    pub href: String,
    /// Its name.
    pub name: String,
    /// True for the agency's verification documents.
    pub from_agency: bool,
}

/// Everything the dispute page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeData {
    /// Its id.
    pub id: i64,
    /// The date it was recorded (ISO).
    pub opened: String,
    /// The B-1 reason code.
    pub reason: String,
    /// The debtor's words.
    pub details: String,
    /// The original creditor's name and address were asked for.
    pub wants_original_creditor: bool,
    /// Made through the portal: a written dispute.
    pub written: bool,
    /// The validation period's end, and whether the dispute came within it.
    pub validation: Option<(String, bool)>,
    /// See [`DisputeSummary::status`].
    pub status: String,
    /// The debtor may still add documents.
    pub can_add: bool,
    /// The debtor's files, and the agency's once the answer is delivered.
    pub files: Vec<FileLink>,
    /// The answer (kind and message), once delivered.
    pub answer: Option<(String, String)>,
    /// The original creditor's name and address, once delivered (when asked for).
    pub original_creditor: Option<String>,
    /// An answer is waiting and the debtor has not agreed to electronic delivery yet.
    pub needs_consent: bool,
    /// A one-time message from the last form.
    pub flash: Option<String>,
}

/// The dispute form's state: its flash message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeFormData {
    /// A one-time message from the last try.
    pub flash: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod imp {
    use accounts::disputes::{Dispute, DisputeReason};

    /// The status shown to the debtor.
    pub fn status(d: &Dispute) -> &'static str {
        match (&d.answer, &d.delivered) {
            (None, _) => "open",
            (Some(_), None) => "answer_waiting",
            (Some(a), Some(_)) if a.kind == accounts::disputes::AnswerKind::Closed => "closed",
            (Some(_), Some(_)) => "answered",
        }
    }

    pub fn summary(d: &Dispute) -> super::DisputeSummary {
        super::DisputeSummary {
            id: d.id,
            opened: d.opened_at.date_naive().to_string(),
            status: status(d).to_string(),
        }
    }

    pub fn reason(r: DisputeReason) -> &'static str {
        r.as_str()
    }
}

/// The dispute form's flash; redirects to the identity check when not verified.
#[server]
pub async fn dispute_form() -> Result<Option<DisputeFormData>, ServerFnError> {
    use crate::portal::imp;
    let Some(_) = imp::verified().await? else {
        return Ok(None);
    };
    let s = imp::session().await?;
    Ok(Some(DisputeFormData {
        flash: imp::take_flash(&s).await?,
    }))
}

/// One of the verified debtor's disputes; `None` when it is not theirs (or not verified).
#[server]
pub async fn dispute_view(id: i64) -> Result<Option<DisputeData>, ServerFnError> {
    use crate::portal::imp;
    let accounts = imp::accounts()?;
    let Some(account) = imp::verified().await? else {
        return Ok(None);
    };
    let d = match accounts.dispute(account, id).await {
        Ok(d) => d,
        Err(accounts::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(imp::unavailable(e)),
    };
    let s = imp::session().await?;
    let delivered = d.delivered.is_some();
    let consented = accounts
        .notice_delivery(account)
        .await
        .map_err(imp::unavailable)?
        .is_some();
    Ok(Some(DisputeData {
        id: d.id,
        opened: d.opened_at.date_naive().to_string(),
        reason: self::imp::reason(d.reason).to_string(),
        details: d.details.clone(),
        wants_original_creditor: d.wants_original_creditor,
        written: d.written,
        validation: d
            .validation_end
            .map(|end| (end.to_string(), d.within_validation)),
        status: self::imp::status(&d).to_string(),
        can_add: d.answer.is_none(),
        files: d
            .files
            .iter()
            .filter(|f| f.role == "evidence" || delivered)
            .map(|f| FileLink {
                href: format!("/disputes/{}/files/{}", d.id, f.id),
                name: f.name.clone(),
                from_agency: f.role == "verification",
            })
            .collect(),
        answer: d
            .answer
            .as_ref()
            .filter(|_| delivered)
            .map(|a| (a.kind.as_str().to_string(), a.message.clone())),
        original_creditor: d
            .answer
            .as_ref()
            .filter(|_| delivered)
            .and_then(|a| a.original_creditor.clone()),
        needs_consent: d.answer.is_some() && !delivered && !consented,
        flash: imp::take_flash(&s).await?,
    }))
}

/// Takes delivery of a dispute's answer: with E-SIGN consent on record (or given now with
/// the box), the answer is shown from now on and the dispute's hold lifts.
#[server]
pub async fn receive_answer(id: i64, agree: Option<String>) -> Result<(), ServerFnError> {
    use crate::i18n::{request_lang, t, Msg};
    use crate::portal::imp;
    let accounts = imp::accounts()?;
    let lang = request_lang();
    let Some(account) = imp::verified().await? else {
        return Ok(());
    };
    let back = format!("/disputes/{id}");
    let on_record = accounts
        .esign_consent(account)
        .await
        .map_err(imp::unavailable)?;
    let consent = match (on_record, agree) {
        (Some(text), _) => text,
        (None, Some(_)) => t(lang, Msg::AnswerConsent).to_string(),
        (None, None) => {
            let s = imp::session().await?;
            imp::set_flash(&s, "consent_required").await?;
            leptos_axum::redirect(&back);
            return Ok(());
        }
    };
    accounts
        .deliver_dispute_answer(
            account,
            id,
            accounts::disputes::Delivery::Portal { consent: &consent },
        )
        .await
        .map_err(imp::unavailable)?;
    leptos_axum::redirect(&back);
    Ok(())
}
