//! The console's routes that carry files (inside the console's session cookie): answering
//! a dispute with verification documents, reading a file of one of the agency's disputes,
//! uploading a placement file and downloading an import's error report. Every other
//! console action is a server function on the Leptos pages.

use accounts::disputes::{AnswerInput, AnswerKind, FileProblem, UploadedFile, MAX_FILE_BYTES};
use accounts::users::AgencyUser;
use accounts::{Accounts, Error};
use app::session_keys::{AGENCY_FLASH, AGENCY_USER};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
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

/// See [`DisputePath`].
#[derive(serde::Deserialize)]
struct RunPath {
    run: i64,
}

/// See [`DisputePath`].
#[derive(serde::Deserialize)]
struct TablePath {
    table: String,
}

/// A report's date range.
#[derive(serde::Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// Up to four documents at the limit, plus the form.
const BODY_LIMIT: usize = 5 * MAX_FILE_BYTES;

/// The largest placement file the console takes (the `import` command has no limit).
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// `POST /agency/disputes/{id}/answer`, `GET /agency/disputes/{id}/files/{file}`,
/// `POST /agency/import/upload`, `GET /agency/imports/{run}/errors.csv`,
/// `GET /agency/reports/csv/{table}?from=&to=`.
pub fn router(accounts: Accounts) -> Router {
    Router::new()
        .route("/agency/disputes/{id}/answer", post(answer))
        .route("/agency/disputes/{id}/files/{file}", get(file))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .route(
            "/agency/import/upload",
            post(import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/agency/imports/{run}/errors.csv", get(error_report))
        .route("/agency/reports/csv/{table}", get(report_csv))
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
        Ok(()) => {
            let detail = format!("dispute {id} answered: {}", kind.as_str());
            accounts
                .audit(&user, "dispute_answered", Some(account), &detail)
                .await
                .map_err(unavailable)?;
            flash_to(&session, "answered", &back).await
        }
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

/// Imports an uploaded placement file for the user's agency, then shows its result page.
async fn import(
    State(accounts): State<Accounts>,
    session: Session,
    mut multipart: Multipart,
) -> Result<Response, StatusCode> {
    let Some(user) = user(&accounts, &session).await? else {
        return Ok(Redirect::to("/agency/sign-in").into_response());
    };
    if !user.role.can_act() {
        return flash_to(&session, "read_only", "/agency/import").await;
    }
    let mut upload = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(|_| StatusCode::BAD_REQUEST)?;
            upload = Some((name, bytes));
        }
    }
    let Some((name, bytes)) = upload.filter(|(_, b)| !b.is_empty()) else {
        return flash_to(&session, "import_empty", "/agency/import").await;
    };
    let name = if name.trim().is_empty() {
        "upload.csv".to_string()
    } else {
        name
    };
    match accounts.import_upload(&user, &name, bytes.to_vec()).await {
        Ok(report) => {
            let to = format!("/agency/imports/{}", report.run_id);
            flash_to(&session, "imported", &to).await
        }
        // The file as a whole cannot be read: say why, import nothing.
        Err(Error::ImportFile(why)) => {
            let flash = format!("error:Nothing was imported: {why}");
            flash_to(&session, &flash, "/agency/import").await
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// An import's bad rows as CSV (line, account reference, reason).
async fn error_report(
    State(accounts): State<Accounts>,
    session: Session,
    Path(RunPath { run }): Path<RunPath>,
) -> Result<Response, StatusCode> {
    let Some(user) = user(&accounts, &session).await? else {
        return Err(StatusCode::NOT_FOUND);
    };
    let Some((_, errors)) = accounts
        .import_run(user.agency, run)
        .await
        .map_err(unavailable)?
    else {
        return Err(StatusCode::NOT_FOUND);
    };
    let mut body = Vec::new();
    accounts::console::write_error_report(&mut body, &errors).map_err(unavailable)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{run}-errors.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

/// One table of the agency's report for a range, as CSV; a range that cannot be used is a
/// 400 that says why.
async fn report_csv(
    State(accounts): State<Accounts>,
    session: Session,
    Path(TablePath { table }): Path<TablePath>,
    Query(q): Query<RangeQuery>,
) -> Result<Response, Response> {
    let Some(user) = user(&accounts, &session)
        .await
        .map_err(IntoResponse::into_response)?
    else {
        return Err(StatusCode::NOT_FOUND.into_response());
    };
    let today = accounts.clock().now().date_naive();
    let range = app::reports::range_of(q.from.as_deref(), q.to.as_deref(), today)
        .map_err(|why| (StatusCode::BAD_REQUEST, why).into_response())?;
    let report = accounts
        .report(user.agency, range)
        .await
        .map_err(|e| unavailable(e).into_response())?;
    let Some(t) = report.tables().into_iter().find(|t| t.name == table) else {
        return Err(StatusCode::NOT_FOUND.into_response());
    };
    let mut body = Vec::new();
    accounts::reports::write_table(&mut body, &t).map_err(|e| unavailable(e).into_response())?;
    let name = format!("{}-{}-{}.csv", t.name, range.from, range.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
