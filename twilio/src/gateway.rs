//! The SMS port over Twilio's Messages API.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use accounts::messaging::{OutboundSms, SendOutcome, SmsFuture, SmsGateway};
use reqwest::header::RETRY_AFTER;
use reqwest::{Client, Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The provider name stored with each sent row.
pub const PROVIDER: &str = "twilio";

/// Twilio's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// How long one request to Twilio may take, connecting included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The wait before the first retry; each further retry waits twice as long.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(250);

/// Requests made for one message while Twilio says it did not take it (429, 503).
pub const MAX_ATTEMPTS: u32 = 3;

/// The longest wait between attempts, whatever `Retry-After` asks: the sending worker,
/// not this adapter, is the place for long waits.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(2);

/// Connecting sends nothing, so a connect timeout can safely be reported as not accepted;
/// it is kept below the request timeout so that it fires first.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How Settle reaches its Twilio account.
#[derive(Clone)]
pub struct TwilioConfig {
    /// The account sid (`AC...`), the user name of basic auth.
    pub account_sid: String,
    /// The auth token: the basic auth password, and the key Twilio signs webhooks with.
    pub auth_token: SecretString,
    /// Twilio's API base URL ([`DEFAULT_BASE_URL`], or a local fake in tests).
    pub base_url: String,
    /// The sending number (E.164) or messaging service sid (`MG...`), used when a message
    /// names none.
    pub from: String,
    /// How long one request may take ([`DEFAULT_REQUEST_TIMEOUT`]).
    pub request_timeout: Duration,
    /// The wait before the first retry ([`DEFAULT_RETRY_BACKOFF`]).
    pub retry_backoff: Duration,
}

impl TwilioConfig {
    /// A configuration for Twilio's real API, with the default timeout and backoff.
    pub fn new(
        account_sid: impl Into<String>,
        auth_token: SecretString,
        from: impl Into<String>,
    ) -> Self {
        TwilioConfig {
            account_sid: account_sid.into(),
            auth_token,
            base_url: DEFAULT_BASE_URL.to_string(),
            from: from.into(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
        }
    }
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("from", &self.from)
            .field("request_timeout", &self.request_timeout)
            .field("retry_backoff", &self.retry_backoff)
            .finish()
    }
}

/// A configuration the gateway cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The account sid is empty or not letters and digits (it goes into the URL path).
    #[error("the Twilio account sid must be non-empty ASCII letters and digits")]
    AccountSid,
    /// The base URL does not parse, or is not http(s).
    #[error("invalid Twilio base URL {url:?}: {reason}")]
    BaseUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Twilio, through its REST API: sends one message per [`SmsGateway::send`].
#[derive(Debug, Clone)]
pub struct TwilioGateway {
    client: Client,
    config: TwilioConfig,
    messages_url: Url,
}

/// What one request came to.
enum Attempt {
    /// Final for this message.
    Done(SendOutcome),
    /// Twilio said it did not take the message and may take it later.
    Retry {
        detail: String,
        retry_after: Option<Duration>,
    },
}

/// Twilio's answer to a created message.
#[derive(Deserialize)]
struct Created {
    sid: String,
    status: String,
}

/// Twilio's error body.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<serde_json::Value>,
    message: Option<String>,
}

impl TwilioGateway {
    /// A gateway for `config`, checking the account sid and base URL.
    pub fn new(config: TwilioConfig) -> Result<Self, ConfigError> {
        let sid = &config.account_sid;
        if sid.is_empty() || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConfigError::AccountSid);
        }
        let url_error = |reason: String| ConfigError::BaseUrl {
            url: config.base_url.clone(),
            reason,
        };
        let base = config.base_url.trim_end_matches('/');
        let messages_url = Url::parse(&format!("{base}/2010-04-01/Accounts/{sid}/Messages.json"))
            .map_err(|e| url_error(e.to_string()))?;
        if !matches!(messages_url.scheme(), "http" | "https") {
            return Err(url_error("not an http(s) URL".to_string()));
        }
        let client = Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(MAX_CONNECT_TIMEOUT))
            // A redirected POST could be replayed elsewhere; Twilio's API never redirects.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(TwilioGateway {
            client,
            config,
            messages_url,
        })
    }

    async fn send_sms(&self, sms: &OutboundSms) -> SendOutcome {
        let form = self.form(sms);
        let mut attempt = 1;
        loop {
            match self.attempt(&form).await {
                Attempt::Done(outcome) => {
                    log(sms.outbox_id, attempt, &outcome);
                    return outcome;
                }
                Attempt::Retry {
                    detail,
                    retry_after,
                } => {
                    if attempt >= MAX_ATTEMPTS {
                        let outcome = SendOutcome::NotAccepted {
                            detail: format!("{detail} (after {attempt} attempts)"),
                        };
                        log(sms.outbox_id, attempt, &outcome);
                        return outcome;
                    }
                    let wait = retry_wait(self.config.retry_backoff, attempt, retry_after);
                    tracing::info!(outbox_id = sms.outbox_id, attempt, ?wait, %detail, "twilio: retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    fn form<'a>(&'a self, sms: &'a OutboundSms) -> Vec<(&'static str, &'a str)> {
        let from = if sms.from.is_empty() {
            &self.config.from
        } else {
            &sms.from
        };
        // An alphanumeric sender id may start with "MG" too; a service sid is 34 long.
        let from_key = if from.starts_with("MG") && from.len() == 34 {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let mut form = vec![
            ("To", sms.to.as_str()),
            (from_key, from),
            ("Body", &sms.body),
        ];
        if let Some(callback) = &sms.status_callback {
            form.push(("StatusCallback", callback));
        }
        form
    }

    async fn attempt(&self, form: &[(&str, &str)]) -> Attempt {
        let sent = self
            .client
            .post(self.messages_url.clone())
            .basic_auth(
                &self.config.account_sid,
                Some(self.config.auth_token.expose_secret()),
            )
            .form(form)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // Nothing was written: no connection, or the request could not be built.
            Err(e) if e.is_connect() || e.is_builder() => {
                return Attempt::Done(SendOutcome::NotAccepted {
                    detail: format!("Twilio not reached: {}", chain(&e)),
                })
            }
            // The request may have been received; sending again could send twice.
            Err(e) => {
                return Attempt::Done(SendOutcome::Unknown {
                    detail: format!("no answer from Twilio: {}", chain(&e)),
                })
            }
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Done(accepted(response).await);
        }
        // 429 and 503 say the request was not taken; a 500, 502 or 504 may come after
        // Twilio created the message, so those are not retried (sending twice is worse).
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            return Attempt::Retry {
                detail: format!("Twilio answered {status}"),
                retry_after: retry_after(&response),
            };
        }
        if status.is_server_error() {
            return Attempt::Done(SendOutcome::Unknown {
                detail: format!("Twilio answered {status}: the message may have been created"),
            });
        }
        if !status.is_client_error() {
            return Attempt::Done(SendOutcome::Unknown {
                detail: format!("unexpected answer from Twilio: {status}"),
            });
        }
        let (code, message) = error_body(response).await;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            // Bad credentials or a suspended account are not the message's fault: rejecting
            // would drop every message until the configuration is fixed.
            return Attempt::Done(SendOutcome::NotAccepted {
                detail: format!(
                    "Twilio refused the account's credentials ({status}, code {code}): {message}"
                ),
            });
        }
        Attempt::Done(SendOutcome::Rejected { code, message })
    }
}

impl SmsGateway for TwilioGateway {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn send<'a>(&'a self, sms: &'a OutboundSms) -> SmsFuture<'a> {
        Box::pin(self.send_sms(sms))
    }
}

async fn accepted(response: Response) -> SendOutcome {
    let status = response.status();
    // Twilio has the message, but without its sid status callbacks cannot be matched.
    match response.json::<Created>().await {
        Ok(created) => SendOutcome::Accepted {
            provider_id: created.sid,
            status: created.status,
        },
        Err(e) => SendOutcome::Unknown {
            detail: format!(
                "Twilio answered {status} but its body was unreadable: {}",
                chain(&e)
            ),
        },
    }
}

/// Twilio's error code and message, or the HTTP status when the body is not Twilio's.
async fn error_body(response: Response) -> (String, String) {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let parsed = serde_json::from_str::<TwilioError>(&text).ok();
    let code = match parsed.as_ref().and_then(|e| e.code.as_ref()) {
        Some(serde_json::Value::String(code)) => code.clone(),
        Some(serde_json::Value::Number(code)) => code.to_string(),
        _ => status.as_u16().to_string(),
    };
    let message = match parsed.and_then(|e| e.message) {
        Some(message) => message,
        None => status.canonical_reason().unwrap_or("error").to_string(),
    };
    (code, message)
}

/// `Retry-After` in seconds; the HTTP-date form is not used by Twilio and falls back to
/// the backoff.
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

/// The wait after failed attempt `attempt` (1-based): `Retry-After` when given, else
/// exponential backoff, capped at [`MAX_RETRY_WAIT`].
fn retry_wait(backoff: Duration, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exponential = backoff.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    retry_after.unwrap_or(exponential).min(MAX_RETRY_WAIT)
}

/// An error with its causes: reqwest's own message hides whether it was a timeout or reset.
fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Logs an outcome without the recipient or the text, which are personal data.
fn log(outbox_id: i64, attempts: u32, outcome: &SendOutcome) {
    match outcome {
        SendOutcome::Accepted {
            provider_id,
            status,
        } => tracing::info!(outbox_id, attempts, provider_id, status, "twilio: accepted"),
        SendOutcome::Rejected { code, message } => {
            tracing::warn!(outbox_id, attempts, code, message, "twilio: rejected")
        }
        SendOutcome::NotAccepted { detail } => {
            tracing::warn!(outbox_id, attempts, detail, "twilio: not accepted")
        }
        SendOutcome::Unknown { detail } => {
            tracing::error!(outbox_id, attempts, detail, "twilio: outcome unknown")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_and_honour_retry_after_up_to_the_cap() {
        let base = Duration::from_millis(100);
        assert_eq!(retry_wait(base, 1, None), Duration::from_millis(100));
        assert_eq!(retry_wait(base, 2, None), Duration::from_millis(200));
        assert_eq!(retry_wait(base, 40, None), MAX_RETRY_WAIT);
        let one = Some(Duration::from_secs(1));
        assert_eq!(retry_wait(base, 1, one), Duration::from_secs(1));
        assert_eq!(
            retry_wait(base, 1, Some(Duration::from_secs(60))),
            MAX_RETRY_WAIT
        );
    }
}
