//! The agency API (`/api/v1`). So far: the compliance dry run, which reads and writes no
//! stored data (API keys arrive with the agency console).

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use domain::compliance::{wire, Policy};
use serde_json::Value;

/// Most questions one request may carry.
pub const MAX_QUESTIONS: usize = 10_000;

/// The `/api/v1` routes.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/api/v1/compliance/check", post(check))
}

/// `POST /api/v1/compliance/check`: an array of questions in, an array of answers out, in
/// order; a malformed question gets `{"id": ..., "error": ...}` in its place.
async fn check(body: Json<Value>) -> Result<Json<Vec<Value>>, (StatusCode, String)> {
    let Value::Array(questions) = body.0 else {
        return Err((
            StatusCode::BAD_REQUEST,
            "the body must be a JSON array of questions".into(),
        ));
    };
    if questions.len() > MAX_QUESTIONS {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_QUESTIONS} questions per request"),
        ));
    }
    let policy = Policy::default();
    Ok(Json(
        questions
            .into_iter()
            .map(|q| wire::answer(q, &policy))
            .collect(),
    ))
}
