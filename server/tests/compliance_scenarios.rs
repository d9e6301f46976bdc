//! The scenario table (tests/compliance/scenarios.jsonl): every question goes through the
//! dry-run command itself, `settle compliance check`, and each answer must equal the
//! expectation written next to it. The expectations were worked out by hand from the law and
//! docs/compliance.md, independently of the engine's code.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

#[test]
fn every_scenario_gets_its_expected_answer_from_the_dry_run_command() {
    let table = include_str!("compliance/scenarios.jsonl");
    let (inputs, expects): (Vec<Value>, Vec<Value>) = table
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("scenario line is JSON");
            (v["input"].take(), v["expect"].take())
        })
        .unzip();
    assert!(inputs.len() >= 60, "only {} scenarios", inputs.len());

    let mut child = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["compliance", "check"])
        .env("SETTLE_LOG_LEVEL", "warn")
        .env_remove("SETTLE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text: String = inputs.iter().map(|i| format!("{i}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let answers: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), inputs.len(), "one answer per question");

    let mut failures = Vec::new();
    for ((input, expect), answer) in inputs.iter().zip(&expects).zip(&answers) {
        let matches = if expect.get("error") == Some(&Value::Bool(true)) {
            answer["id"] == expect["id"] && answer["error"].is_string()
        } else {
            answer == expect
        };
        if !matches {
            failures.push(format!(
                "{}\n  expected {expect}\n  got      {answer}",
                input["id"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios differ:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}
