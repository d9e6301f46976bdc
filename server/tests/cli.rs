//! The `settle` binary as an operator uses it: `--help`, `migrate`, `import`, `compliance`.

use std::path::Path;
use std::process::{Command, Output};

fn settle(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_settle"));
    c.env("SETTLE_DATABASE_URL", format!("sqlite:{}", db.display()))
        .env("SETTLE_LOG_LEVEL", "warn")
        .env_remove("SETTLE_CONFIG");
    c
}

const HEADER: &str = "account_ref,creditor,first_name,last_name,date_of_birth,phone,email,address_line1,city,state,postal_code,itemization_date,balance_at_itemization,interest_since,fees_since,payments_since,credits_since,current_balance";

/// Runs `settle import ARGS FILE` against `db`.
fn import(db: &Path, args: &[&str], file: &Path) -> Output {
    settle(db)
        .arg("import")
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

fn row(r: &str, current: &str) -> String {
    format!("{r},Acme Medical,Ana,Pérez,1984-02-29,6175550142,,1 Main St,Boston,MA,02134,2026-01-31,100.00,0,0,0,0,{current}")
}

#[test]
fn help_names_every_subcommand() {
    let out = Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for sub in [
        "serve",
        "migrate",
        "import",
        "bench",
        "compliance",
        "disputes",
        "holds",
        "users",
        "timeline",
    ] {
        assert!(text.contains(sub), "{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["import", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("--agency"));
}

#[test]
fn migrate_creates_the_database_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/settle.db");
    let first = settle(&db).arg("migrate").output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let migrations =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
            .unwrap()
            .count();
    let stdout = String::from_utf8(first.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!("{migrations} migration(s) applied")),
        "{stdout}"
    );
    let again = settle(&db).arg("migrate").output().unwrap();
    assert!(String::from_utf8(again.stdout)
        .unwrap()
        .starts_with("0 migration(s) applied"));
}

#[test]
fn import_prints_one_line_per_bad_row_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("settle.db");
    let file = dir.path().join("placements.csv");
    let csv = [
        HEADER.to_string(),
        row("G-1", "100.00"),
        row("B-1", "99.00"),
        row("G-2", "100.00"),
        row("G-1", "100.00"),
        row("B-2", "100.00").replace("2026-01-31", "yesterday"),
    ]
    .join("\n");
    std::fs::write(&file, csv).unwrap();
    let out = import(&db, &[], &file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("line 3 (B-1): current_balance 99.00 USD does not equal"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("line 6 (B-2): itemization_date `yesterday`"),
        "{stdout}"
    );
    assert_eq!(
        lines[2],
        "line 5 (G-1): duplicate account_ref (first on line 2)"
    );
    assert!(
        stderr.contains("5 row(s): 2 imported, 0 already placed (unchanged), 3 rejected"),
        "{stderr}"
    );

    let again = import(&db, &[], &file);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("0 imported, 2 already placed (unchanged), 3 rejected"),
        "{stderr}"
    );
}

#[test]
fn import_check_reports_bad_rows_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("settle.db");
    let file = dir.path().join("placements.csv");
    let csv = [
        HEADER.to_string(),
        row("G-1", "100.00"),
        row("B-1", "99.00"),
    ]
    .join("\n");
    std::fs::write(&file, csv).unwrap();
    let out = import(&db, &["--check"], &file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "rejected rows fail the check: {stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("line 3 (B-1): current_balance 99.00 USD does not equal"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stderr.contains("2 row(s): 1 valid, 1 rejected (checked only"),
        "{stderr}"
    );
    assert!(!db.exists(), "a check opened the database");

    std::fs::write(&file, [HEADER.to_string(), row("G-1", "100.00")].join("\n")).unwrap();
    let out = import(&db, &["--check"], &file);
    assert!(
        out.status.success(),
        "a file with no bad row passes: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn import_of_a_file_missing_columns_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "account_ref,name\nA,B\n").unwrap();
    let out = import(&dir.path().join("s.db"), &[], &file);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("lacks required column(s): creditor, first_name"),
        "{stderr}"
    );
}

#[test]
fn compliance_decide_logs_each_decision_and_log_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("settle.db");
    let file = dir.path().join("placements.csv");
    std::fs::write(&file, format!("{HEADER}\n{}\n", row("CL-1", "100.00"))).unwrap();
    let out = import(&db, &["--agency", "acme"], &file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let decide = |channel: &str| {
        let out = settle(&db)
            .args([
                "compliance",
                "decide",
                "--agency",
                "acme",
                "--account",
                "CL-1",
                "--channel",
                channel,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    // The row carries no SMS consent: denied whatever the hour.
    let sms = decide("sms");
    assert_eq!(sms["decision"], "deny");
    assert_eq!(sms["reasons"], serde_json::json!(["no_consent"]));
    let call = decide("call");
    assert_ne!(call["decision"], "deny", "{call}");

    let out = settle(&db)
        .args(["compliance", "log", "--agency", "acme", "--account", "CL-1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["channel"], "call");
    assert_eq!(lines[1]["reasons"], serde_json::json!(["no_consent"]));
    assert!(lines[1]["facts"]
        .as_str()
        .unwrap()
        .contains("\"kind\":\"contact\""));

    let missing = settle(&db)
        .args([
            "compliance",
            "log",
            "--agency",
            "acme",
            "--account",
            "NOPE-1",
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no account `NOPE-1`"));
}

#[test]
fn messages_cadence_prints_saves_and_refuses_a_template_that_shows_the_amount() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("settle.db");
    // The demo agency is created by the first import.
    let file = dir.path().join("placements.csv");
    std::fs::write(&file, [HEADER.to_string(), row("G-1", "100.00")].join("\n")).unwrap();
    assert!(import(&db, &[], &file).status.success());
    let shown = settle(&db).args(["messages", "cadence"]).output().unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let mut cadence: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(cadence["repeat_every_days"], 14);

    cadence["repeat_every_days"] = 30.into();
    let good = dir.path().join("good.json");
    std::fs::write(&good, cadence.to_string()).unwrap();
    let saved = settle(&db)
        .args(["messages", "cadence", "--set"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let again: serde_json::Value = serde_json::from_slice(
        &settle(&db)
            .args(["messages", "cadence"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(again["repeat_every_days"], 30);

    cadence["templates"] = serde_json::json!({"reminder": {"en": "You owe {amount}: {link}"}});
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, cadence.to_string()).unwrap();
    let refused = settle(&db)
        .args(["messages", "cadence", "--set"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("{amount}"));
}
