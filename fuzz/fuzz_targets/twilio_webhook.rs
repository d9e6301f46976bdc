//! Twilio's webhook bodies, any bytes read as the form they are posted as: the inbound and
//! status parsers never panic, a signature made as Twilio makes it is accepted, and any
//! other signature, or a changed parameter, is refused.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use settle_twilio::{parse_inbound, parse_status_callback, verify_signature};
use sha1::Sha1;

const TOKEN: &str = "fuzz-auth-token";
const URL: &str = "https://settle.example:8443/webhooks/twilio/sms?agency=demo";

/// Twilio's documented signing, written out independently of the adapter.
fn sign(url: &str, params: &[(String, String)]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut signed = url.to_string();
    for (name, value) in sorted {
        signed.push_str(&name);
        signed.push_str(&value);
    }
    mac.update(signed.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fuzz_target!(|data: &[u8]| {
    let params: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    let _ = parse_inbound(&params);
    let _ = parse_status_callback(&params);

    let token = SecretString::from(TOKEN);
    let signature = sign(URL, &params);
    assert_eq!(
        verify_signature(URL, &params, Some(&signature), &token),
        Ok(())
    );

    let other = String::from_utf8_lossy(data);
    if other.trim() != signature {
        assert!(verify_signature(URL, &params, Some(&other), &token).is_err());
    }
    if let Some((name, value)) = params.first() {
        let mut changed = params.clone();
        changed[0] = (name.clone(), format!("{value}x"));
        assert!(verify_signature(URL, &changed, Some(&signature), &token).is_err());
    }
});
