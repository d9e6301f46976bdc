//! The console's routes that carry files (inside the console's session cookie): answering
//! a dispute with verification documents, and reading a file of one of the agency's
//! disputes. Every other console action is a server function on the Leptos pages.

use accounts::disputes::{AnswerInput, AnswerKind, FileProblem, UploadedFile, MAX_FILE_BYTES};
use accounts::users::AgencyUser;
use accounts::{Accounts, Error};
use app::session_keys::{AGENCY_FLASH, AGENCY_USER};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_sessions::Session;

/// The path's parameters by name: the console is mounted under a `/agency/{*rest}` route
/// whose own parameter comes along, so positional extraction would count it too.
#[derive(serde::Deserialize)]
struct DisputePath {
    id: i64,
}

/// See [`DisputePath`].
#[derive(serde::Deserialize)]
struct FilePath {
    id: i64,
    file: i64,
}

/// Up to four documents at the limit, plus the form.
const BODY_LIMIT: usize = 5 * MAX_FILE_BYTES;

/// `POST /agency/disputes/{id}/answer`, `GET /agency/disputes/{id}/files/{file}`.
pub fn router(accounts: Accounts) -> Router {
    Router::new()
        .route("/agency/disputes/{id}/answer", post(answer))
        .route("/agency/disputes/{id}/files/{file}", get(file))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(accounts)
}

fn unavailable(e: impl std::fmt::Display) -> StatusCode {
    tracing::error!("console: {e}");
    StatusCode::SERVICE_UNAVAILABLE
}

/// The signed-in agency user of the console session, if any (and not disabled).
async fn user(accounts: &Accounts, session: &Session) -> Result<Option<AgencyUser>, StatusCode> {
    let id = session.get::<i64>(AGENCY_USER).await.map_err(unavailable)?;
    match id {
        Some(id) => accounts.agency_user(id).await.map_err(unavailable),
        None => Ok(None),
    }
}

async fn flash_to(session: &Session, flash: &str, to: &str) -> Result<Response, StatusCode> {
    session
        .insert(AGENCY_FLASH, flash)
        .await
        .map_err(unavailable)?;
    Ok(Redirect::to(to).into_response())
}

/// Records an answer from the form; anything wrong records nothing and says why.
async fn answer(
    State(accounts): State<Accounts>,
    session: Session,
    Path(DisputePath { id }): Path<DisputePath>,
    mut multipart: Multipart,
) -> Result<Response, StatusCode> {
    let Some(user) = user(&accounts, &session).await? else {
        return Ok(Redirect::to("/agency/sign-in").into_response());
    };
    let back = format!("/agency/disputes/{id}");
    if !user.role.can_act() {
        return flash_to(&session, "read_only", &back).await;
    }
    let account = match accounts.dispute_account(user.agency, id).await {
        Ok(a) => a,
        Err(Error::NotFound(_)) => return Err(StatusCode::NOT_FOUND),
        Err(e) => return Err(unavailable(e)),
    };
    let (mut kind, mut message, mut correction) = (None, String::new(), String::new());
    let mut original_creditor = String::new();
    let mut documents = Vec::new();
    let mut problem = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "documents" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(|_| StatusCode::BAD_REQUEST)?;
            if bytes.is_empty() && file_name.is_empty() {
                continue;
            }
            match UploadedFile::parse(&file_name, bytes.to_vec()) {
                Ok(f) => documents.push(f),
                Err(p) => problem = Some(p),
            }
            continue;
        }
        let value = field.text().await.map_err(|_| StatusCode::BAD_REQUEST)?;
        match name.as_str() {
            "kind" => kind = Some(value),
            "message" => message = value,
            "correction" => correction = value,
            "original_creditor" => original_creditor = value,
            _ => {}
        }
    }
    if let Some(p) = problem {
        let flash = match p {
            FileProblem::TooLarge => "file_too_large",
            FileProblem::NotAllowed | FileProblem::Empty => "file_type",
        };
        return flash_to(&session, flash, &back).await;
    }
    let Some(Ok(kind)) = kind.map(|k| k.parse::<AnswerKind>()) else {
        return flash_to(&session, "answer_invalid", &back).await;
    };
    let correction = match correction.trim() {
        "" => None,
        text => {
            let currency = accounts
                .balance(account)
                .await
                .map_err(unavailable)?
                .currency();
            match domain::Money::parse(text, currency) {
                Ok(m) => Some(m),
                Err(_) => return flash_to(&session, "amount", &back).await,
            }
        }
    };
    let input = AnswerInput {
        kind,
        message,
        documents,
        correction: correction.filter(|_| kind == AnswerKind::Corrected),
        original_creditor: Some(original_creditor),
    };
    match accounts
        .answer_dispute(user.agency, id, input, &user.actor())
        .await
    {
        Ok(()) => flash_to(&session, "answered", &back).await,
        Err(Error::Invalid(_) | Error::Ledger(_)) => {
            flash_to(&session, "answer_invalid", &back).await
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// A file of one of the agency's disputes; anything else is "not found".
async fn file(
    State(accounts): State<Accounts>,
    session: Session,
    Path(FilePath { id, file }): Path<FilePath>,
) -> Result<Response, StatusCode> {
    let Some(user) = user(&accounts, &session).await? else {
        return Err(StatusCode::NOT_FOUND);
    };
    let account = match accounts.dispute_account(user.agency, id).await {
        Ok(a) => a,
        Err(Error::NotFound(_)) => return Err(StatusCode::NOT_FOUND),
        Err(e) => return Err(unavailable(e)),
    };
    crate::disputes::serve_file(&accounts, account, id, file, false).await
}
