//! The portal's dispute routes that carry files, so plain multipart forms (they work the
//! same with JavaScript on or off): opening a dispute, adding evidence, and reading a file
//! of one's own dispute. Everything else about disputes is on the Leptos pages.

use accounts::disputes::{DisputeReason, FileProblem, NewDispute, UploadedFile, MAX_FILE_BYTES};
use accounts::{Accounts, Error};
use app::session_keys;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::AccountId;
use tower_sessions::Session;

use crate::portal::verified_account;

/// Requests may carry one file at the limit plus the form, with room to spare: a file over
/// the limit still arrives whole, so the debtor sees a clear message instead of a reset.
const BODY_LIMIT: usize = 3 * MAX_FILE_BYTES;

/// `POST /dispute`, `POST /disputes/{id}/evidence`, `GET /disputes/{id}/files/{file}`
/// (inside the session layer).
pub fn router(accounts: Accounts) -> Router {
    Router::new()
        .route("/dispute", post(open))
        .route("/disputes/{id}/evidence", post(add_evidence))
        .route("/disputes/{id}/files/{file}", get(file))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(accounts)
}

/// The fields of the dispute form.
#[derive(Default)]
struct Form {
    reason: Option<String>,
    details: String,
    wants_original_creditor: bool,
    file: Option<(String, Vec<u8>)>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, StatusCode> {
    let mut form = Form::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?
    {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "evidence" => {
                let file_name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|_| StatusCode::BAD_REQUEST)?;
                // A file input left empty still sends a part with no name and no bytes.
                if !bytes.is_empty() || !file_name.is_empty() {
                    form.file = Some((file_name, bytes.to_vec()));
                }
            }
            _ => {
                let value = field.text().await.map_err(|_| StatusCode::BAD_REQUEST)?;
                match name.as_str() {
                    "reason" => form.reason = Some(value),
                    "details" => form.details = value,
                    "original_creditor" => form.wants_original_creditor = true,
                    _ => {}
                }
            }
        }
    }
    Ok(form)
}

fn file_flash(problem: FileProblem) -> &'static str {
    match problem {
        FileProblem::Empty => "file_empty",
        FileProblem::TooLarge => "file_too_large",
        FileProblem::NotAllowed => "file_type",
    }
}

fn unavailable(e: impl std::fmt::Display) -> StatusCode {
    tracing::error!("dispute: {e}");
    StatusCode::SERVICE_UNAVAILABLE
}

async fn flash_to(session: &Session, flash: &str, to: &str) -> Result<Response, StatusCode> {
    session
        .insert(session_keys::FLASH, flash)
        .await
        .map_err(unavailable)?;
    Ok(Redirect::to(to).into_response())
}

/// Opens a dispute from the form; a problem sends the debtor back to the form with a
/// message, and nothing is recorded.
async fn open(
    State(accounts): State<Accounts>,
    session: Session,
    multipart: Multipart,
) -> Result<Response, StatusCode> {
    let Some(account) = verified_account(&session).await? else {
        return Ok(Redirect::to("/verify").into_response());
    };
    let form = read_form(multipart).await?;
    let reason = match (form.reason.as_deref(), form.wants_original_creditor) {
        (Some(r @ ("not_my_debt" | "amount_wrong" | "other")), _) => {
            r.parse::<DisputeReason>().map_err(unavailable)?
        }
        (None, true) => DisputeReason::OriginalCreditorRequest,
        _ => return flash_to(&session, "reason_missing", "/dispute").await,
    };
    if reason == DisputeReason::Other && form.details.trim().is_empty() {
        return flash_to(&session, "details_missing", "/dispute").await;
    }
    let evidence = match form.file {
        Some((name, bytes)) => match UploadedFile::parse(&name, bytes) {
            Ok(f) => vec![f],
            Err(p) => return flash_to(&session, file_flash(p), "/dispute").await,
        },
        None => Vec::new(),
    };
    let dispute = NewDispute {
        reason,
        details: form.details,
        wants_original_creditor: form.wants_original_creditor,
        origin: accounts::disputes::DisputeOrigin::Portal,
        evidence,
    };
    match accounts.open_dispute(account, dispute).await {
        Ok(id) => Ok(Redirect::to(&format!("/disputes/{id}?new=1")).into_response()),
        Err(Error::Invalid(_)) => flash_to(&session, "details_too_long", "/dispute").await,
        Err(e) => Err(unavailable(e)),
    }
}

/// Adds a document to one of the debtor's disputes still waiting for an answer.
async fn add_evidence(
    State(accounts): State<Accounts>,
    session: Session,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, StatusCode> {
    let Some(account) = verified_account(&session).await? else {
        return Ok(Redirect::to("/verify").into_response());
    };
    let back = format!("/disputes/{id}");
    let form = read_form(multipart).await?;
    let file = match form
        .file
        .map(|(name, bytes)| UploadedFile::parse(&name, bytes))
    {
        Some(Ok(f)) => f,
        Some(Err(p)) => return flash_to(&session, file_flash(p), &back).await,
        None => return flash_to(&session, "file_empty", &back).await,
    };
    match accounts.add_evidence(account, id, &file).await {
        Ok(()) => flash_to(&session, "evidence_added", &back).await,
        Err(Error::NotFound(_)) => Err(StatusCode::NOT_FOUND),
        Err(Error::Invalid(_)) => flash_to(&session, "already_answered", &back).await,
        Err(e) => Err(unavailable(e)),
    }
}

/// Sends a file of the debtor's own dispute as a download. Another account's file, or any
/// file without a verified session, is "not found": ids reveal nothing.
async fn file(
    State(accounts): State<Accounts>,
    session: Session,
    Path((id, file)): Path<(i64, i64)>,
) -> Result<Response, StatusCode> {
    let Some(account) = verified_account(&session).await? else {
        return Err(StatusCode::NOT_FOUND);
    };
    serve_file(&accounts, account, id, file, true).await
}

/// The download response of a dispute file of `account` (shared with the agency console).
/// The debtor gets the agency's verification documents only once the answer is delivered:
/// fetching them is not a way around the E-SIGN step.
pub async fn serve_file(
    accounts: &Accounts,
    account: AccountId,
    dispute: i64,
    file: i64,
    debtor: bool,
) -> Result<Response, StatusCode> {
    let (meta, bytes) = match accounts.dispute_file(account, dispute, file).await {
        Ok(found) => found,
        Err(Error::NotFound(_)) => return Err(StatusCode::NOT_FOUND),
        Err(e) => return Err(unavailable(e)),
    };
    if debtor && meta.role != "evidence" {
        let delivered = accounts
            .dispute(account, dispute)
            .await
            .map_err(unavailable)?
            .delivered
            .is_some();
        if !delivered {
            return Err(StatusCode::NOT_FOUND);
        }
    }
    let ascii: String = meta
        .name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, meta.content_type.as_str()),
        (header::CONTENT_DISPOSITION, disposition.as_str()),
        (header::CACHE_CONTROL, "private, no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    Ok(response)
}
