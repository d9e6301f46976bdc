//! A small fake of Twilio's Messages API on loopback: it checks basic auth, records the
//! messages it created, and can be scripted to refuse or hang on the next requests.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{Form, Path, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

/// The account sid the fake accepts.
pub const SID: &str = "ACfakeTestAccountForLocalTests";

/// The auth token the fake accepts.
pub const TOKEN: &str = "fake_twilio_auth_token";

/// A message the fake created, with the parameters it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub sid: String,
    pub to: Option<String>,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: Option<String>,
    pub status_callback: Option<String>,
}

/// How the fake answers one authenticated request.
#[derive(Debug, Clone)]
pub enum Step {
    /// 429 with `Retry-After`, nothing created.
    TooMany { retry_after_secs: u64 },
    /// This 5xx status, nothing created.
    ServerError(u16),
    /// 400 with Twilio's error body, nothing created.
    Invalid { code: u32, message: &'static str },
    /// Creates the message, then never answers in time.
    Hang,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Step>,
    created: Vec<Created>,
    requests: u32,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeTwilio {
    /// Base URL to give the gateway.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(inner: &Shared) -> MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn param(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

async fn create(
    State(inner): State<Shared>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let expected = format!("Basic {}", STANDARD.encode(format!("{SID}:{TOKEN}")));
    let step = {
        let mut inner = lock(&inner);
        inner.requests += 1;
        let auth = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        if sid != SID || auth != Some(expected.as_str()) {
            return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
        }
        inner.script.pop_front()
    };
    match step {
        Some(Step::TooMany { retry_after_secs }) => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
            response
                .headers_mut()
                .insert(RETRY_AFTER, retry_after_secs.into());
            return response;
        }
        Some(Step::ServerError(status)) => {
            let status = StatusCode::from_u16(status).expect("a status code");
            return (status, "internal error").into_response();
        }
        Some(Step::Invalid { code, message }) => {
            return error(StatusCode::BAD_REQUEST, code, message);
        }
        Some(Step::Hang) | None => {}
    }
    let created = {
        let mut inner = lock(&inner);
        let created = Created {
            sid: format!("SM{:032x}", inner.created.len() + 1),
            to: param(&form, "To"),
            from: param(&form, "From"),
            messaging_service_sid: param(&form, "MessagingServiceSid"),
            body: param(&form, "Body"),
            status_callback: param(&form, "StatusCallback"),
        };
        inner.created.push(created.clone());
        created
    };
    if matches!(step, Some(Step::Hang)) {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let body = json!({
        "sid": created.sid,
        "account_sid": SID,
        "to": created.to,
        "from": created.from,
        "body": created.body,
        "status": "queued",
        "error_code": null,
        "error_message": null,
    });
    (StatusCode::CREATED, Json(body)).into_response()
}

impl FakeTwilio {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        let inner = Shared::default();
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(create))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeTwilio { url, inner }
    }

    /// Answers the next `times` authenticated requests with `step`.
    pub fn script(&self, step: Step, times: usize) {
        let mut inner = lock(&self.inner);
        inner.script.extend(std::iter::repeat_n(step, times));
    }

    /// The messages created so far.
    pub fn created(&self) -> Vec<Created> {
        lock(&self.inner).created.clone()
    }

    /// Requests received so far, refused ones included.
    pub fn requests(&self) -> u32 {
        lock(&self.inner).requests
    }
}
