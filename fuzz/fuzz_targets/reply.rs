//! The reply classifier on any text: it never panics, its two forms agree, and neither
//! ASCII case nor surrounding white space changes its answer.
#![no_main]

use domain::reply::{classify, classify_all};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let intent = classify(text);
    let all = classify_all(text);
    assert_eq!(
        all.first(),
        Some(&intent),
        "classify_all must lead with classify"
    );
    for (i, a) in all.iter().enumerate() {
        assert!(!all[i + 1..].contains(a), "an intent listed twice: {all:?}");
    }
    assert_eq!(
        classify(&text.to_ascii_uppercase()),
        intent,
        "case changed {text:?}"
    );
    assert_eq!(
        classify(&format!(" \t{text}\n ")),
        intent,
        "spacing changed {text:?}"
    );
});
