//! Twilio's webhooks: the `X-Twilio-Signature` check, and status callbacks and inbound
//! messages read from their form parameters.

use secrecy::SecretString;
use settle_twilio::{
    parse_inbound, parse_status_callback, public_url, verify_signature, DeliveryState,
    DeliveryStatus, InboundSms, ParseError, SignatureError,
};

/// Twilio's documented example (auth token `12345`).
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
/// base64(HMAC-SHA1("12345", URL + sorted name+value pairs)), checked against Python's
/// `hmac` module independently of this crate.
const SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
/// The same parameters posted to the URL with an explicit port.
const URL_WITH_PORT: &str = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
const SIGNATURE_WITH_PORT: &str = "qERtAmzS12GPa6TT11iKcG/MY9A=";

fn token() -> SecretString {
    SecretString::from("12345")
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The example's parameters, deliberately not in sorted order.
fn example() -> Vec<(String, String)> {
    params(&[
        ("To", "+18005551212"),
        ("CallSid", "CA1234567890ABCDE"),
        ("From", "+12349013030"),
        ("Digits", "1234"),
        ("Caller", "+12349013030"),
    ])
}

#[test]
fn twilios_documented_example_verifies() {
    assert_eq!(
        verify_signature(URL, &example(), Some(SIGNATURE), &token()),
        Ok(())
    );
    // The value sometimes quoted for this example is not what the algorithm gives.
    assert_eq!(
        verify_signature(
            URL,
            &example(),
            Some("GvWf1cFY/Q7PnoempGyD5oXAezc="),
            &token()
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn the_port_is_part_of_the_signed_url() {
    assert_ne!(SIGNATURE, SIGNATURE_WITH_PORT);
    let with_port = Some(SIGNATURE_WITH_PORT);
    assert_eq!(
        verify_signature(URL_WITH_PORT, &example(), with_port, &token()),
        Ok(())
    );
    assert_eq!(
        verify_signature(URL, &example(), with_port, &token()),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(URL_WITH_PORT, &example(), Some(SIGNATURE), &token()),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_tampered_request_is_refused() {
    let mut tampered = example();
    tampered[3].1 = "9999".to_string();
    assert_eq!(
        verify_signature(URL, &tampered, Some(SIGNATURE), &token()),
        Err(SignatureError::Mismatch)
    );
    let mut extra = example();
    extra.push(("Body".to_string(), "PAID".to_string()));
    assert_eq!(
        verify_signature(URL, &extra, Some(SIGNATURE), &token()),
        Err(SignatureError::Mismatch)
    );
    let other_query = "https://mycompany.com/myapp.php?foo=1&bar=3";
    assert_eq!(
        verify_signature(other_query, &example(), Some(SIGNATURE), &token()),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(
            URL,
            &example(),
            Some(SIGNATURE),
            &SecretString::from("54321")
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_missing_signature_is_refused() {
    for header in [None, Some(""), Some("  ")] {
        assert_eq!(
            verify_signature(URL, &example(), header, &token()),
            Err(SignatureError::Missing)
        );
    }
}

#[test]
fn a_malformed_signature_is_refused() {
    assert_eq!(
        verify_signature(URL, &example(), Some("not base64!"), &token()),
        Err(SignatureError::Malformed)
    );
    // Valid base64 of the wrong length is a plain mismatch.
    assert_eq!(
        verify_signature(URL, &example(), Some("AAAA"), &token()),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn the_public_url_joins_with_one_slash() {
    let expected = "https://portal.example/hooks/twilio/status?outbox=42";
    for base in ["https://portal.example", "https://portal.example/"] {
        for path in [
            "/hooks/twilio/status?outbox=42",
            "hooks/twilio/status?outbox=42",
        ] {
            assert_eq!(public_url(base, path), expected);
        }
    }
    assert_eq!(
        public_url("https://portal.example:8443/settle/", "/hooks/sms"),
        "https://portal.example:8443/settle/hooks/sms"
    );
}

#[test]
fn status_callbacks_are_read() {
    let failed = params(&[
        ("MessageSid", "SM0001"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
        ("To", "+15558675310"),
        ("AccountSid", "AC0001"),
    ]);
    assert_eq!(
        parse_status_callback(&failed),
        Ok(DeliveryStatus {
            provider_id: "SM0001".to_string(),
            status: DeliveryState::Undelivered,
            error_code: Some("30003".to_string()),
            to: Some("+15558675310".to_string()),
        })
    );
    let read = params(&[("MessageSid", "SM0002"), ("MessageStatus", "read")]);
    let status = parse_status_callback(&read).expect("a status");
    assert_eq!(status.status, DeliveryState::Other("read".to_string()));
    assert_eq!(status.error_code, None);
    for (name, state) in [
        ("queued", DeliveryState::Queued),
        ("sent", DeliveryState::Sent),
        ("delivered", DeliveryState::Delivered),
        ("failed", DeliveryState::Failed),
    ] {
        assert_eq!(DeliveryState::from_twilio(name), state);
    }
}

#[test]
fn a_status_callback_without_a_required_field_names_it() {
    let no_sid = params(&[("MessageStatus", "sent")]);
    assert_eq!(
        parse_status_callback(&no_sid),
        Err(ParseError::Missing("MessageSid"))
    );
    let no_status = params(&[("MessageSid", "SM0001"), ("MessageStatus", "")]);
    let error = parse_status_callback(&no_status).expect_err("missing status");
    assert_eq!(error, ParseError::Missing("MessageStatus"));
    assert!(error.to_string().contains("MessageStatus"));
}

#[test]
fn inbound_messages_are_read() {
    let stop = params(&[
        ("MessageSid", "SM0003"),
        ("From", "+15558675310"),
        ("To", "+15005550006"),
        ("Body", "STOP"),
    ]);
    assert_eq!(
        parse_inbound(&stop),
        Ok(InboundSms {
            provider_id: "SM0003".to_string(),
            from: "+15558675310".to_string(),
            to: "+15005550006".to_string(),
            body: "STOP".to_string(),
        })
    );
    let picture_only = params(&[
        ("MessageSid", "SM0004"),
        ("From", "+15558675310"),
        ("To", "+15005550006"),
        ("Body", ""),
    ]);
    assert_eq!(parse_inbound(&picture_only).expect("inbound").body, "");
    for missing in ["MessageSid", "From", "To", "Body"] {
        let without: Vec<_> = stop.iter().filter(|(k, _)| k != missing).cloned().collect();
        assert_eq!(parse_inbound(&without), Err(ParseError::Missing(missing)));
    }
}
