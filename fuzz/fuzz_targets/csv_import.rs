//! The placement importer reading any bytes as a CSV file: it never panics, and every data
//! row it reads is either valid or refused with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    // A file without a usable header is refused as a whole, which is also a fine answer.
    if let Ok(check) = accounts::import::check_placements(data, today) {
        assert_eq!(check.rows, check.valid + check.rejected.len() as u64);
        for e in &check.rejected {
            assert!(!e.reason.is_empty(), "a refusal without a reason");
        }
    }
});
