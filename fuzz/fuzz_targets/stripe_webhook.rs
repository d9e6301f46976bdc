//! Stripe's webhook bodies: any text, signed with the endpoint's secret, is either read as
//! an event or refused, without a panic; the same text under another secret is refused, and
//! any text as the `Stripe-Signature` header is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use settle_stripe::{sign, verify_event};

const SECRET: &str = "whsec_fuzz";

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let now = chrono::Utc::now().timestamp();
    let _ = verify_event(body, &sign(body, SECRET, now), SECRET);
    assert!(verify_event(body, &sign(body, "whsec_other", now), SECRET).is_err());
    assert!(verify_event("{}", body, SECRET).is_err());
});
