//! Twilio's webhook signature: `X-Twilio-Signature` is base64(HMAC-SHA1(auth token, the
//! full URL Twilio requested followed by each POST parameter's name and value, sorted)).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

/// The header Twilio signs its webhook requests in.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The request carries no signature.
    #[error("the X-Twilio-Signature header is missing")]
    Missing,
    /// The signature is not base64.
    #[error("the X-Twilio-Signature header is not valid base64")]
    Malformed,
    /// The signature does not match the URL, the parameters and the auth token.
    #[error("the X-Twilio-Signature does not match the request")]
    Mismatch,
}

/// Checks Twilio's signature `header` of a form-encoded POST to `url` with `params`.
///
/// `url` must be exactly what Twilio requested, scheme, port and query string included
/// (see [`public_url`]). The comparison is constant-time.
pub fn verify_signature(
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
    auth_token: &SecretString,
) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty());
    let signature = STANDARD
        .decode(header.ok_or(SignatureError::Missing)?)
        .map_err(|_| SignatureError::Malformed)?;
    // HMAC takes keys of any length, so this error cannot happen.
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.expose_secret().as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Repeated names (lists) are ordered by value too, as Twilio does.
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.verify_slice(&signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// The URL Twilio requested: the configured public base (what Twilio was given, before
/// any proxy) joined with the request's path and query, with exactly one slash between.
pub fn public_url(base_public_url: &str, path_and_query: &str) -> String {
    let base = base_public_url.trim_end_matches('/');
    let rest = path_and_query.trim_start_matches('/');
    format!("{base}/{rest}")
}
