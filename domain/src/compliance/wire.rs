//! The dry-run wire format: one JSON question in, one JSON answer out. Used by
//! `settle compliance check` (JSON Lines) and `POST /api/v1/compliance/check` (arrays).
//!
//! Every field but `id`, `kind`, `now`, `channel` and `purpose` may be missing (unknown,
//! false or empty); unknown fields are an error, so a misspelt fact is never silently
//! read as "unknown".

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::facts::{
    AreaCode, Channel, ChannelSet, ConsumerFacts, ContactEvent, ContactQuestion, DebtFacts,
    Direction, LocalRange, Purpose,
};
use super::policy::Policy;
use super::{decide, validation_period_end, Decision};
use crate::{PostalCode, UsState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactInput {
    now: DateTime<Utc>,
    channel: Channel,
    purpose: Purpose,
    consumer: Option<ConsumerInput>,
    debt: Option<DebtInput>,
    history: Option<Vec<EventInput>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConsumerInput {
    phone: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    time_zone: Option<String>,
    inconvenient_times: Option<Vec<RangeInput>>,
    refused_channels: Option<Vec<Channel>>,
    consented: Option<Vec<Channel>>,
    opted_out: Option<Vec<Channel>>,
    opted_out_at: Option<DateTime<Utc>>,
    attorney_represented: Option<bool>,
    cease_requested: Option<bool>,
    bankruptcy: Option<bool>,
    deceased: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeInput {
    from: String,
    to: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DebtInput {
    dispute_open: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventInput {
    at: DateTime<Utc>,
    channel: Channel,
    direction: Option<Direction>,
    purpose: Option<Purpose>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidationInput {
    sent_on: NaiveDate,
}

#[derive(Serialize)]
struct ContactOutput<'a> {
    id: &'a Value,
    decision: &'static str,
    reasons: Vec<&'static str>,
    citations: Vec<&'static str>,
    next_allowed_at: Option<String>,
    required_content: Vec<&'static str>,
}

#[derive(Serialize)]
struct ValidationOutput<'a> {
    id: &'a Value,
    validation_end: NaiveDate,
}

#[derive(Serialize)]
struct ErrorOutput<'a> {
    id: &'a Value,
    error: String,
}

fn channels(list: Option<Vec<Channel>>) -> ChannelSet {
    list.unwrap_or_default().into_iter().collect()
}

impl ContactInput {
    fn into_question(self) -> Result<(ContactQuestion, DateTime<Utc>), String> {
        let c = self.consumer.unwrap_or_default();
        let area_code = match c.phone.as_deref() {
            Some(p) => AreaCode::of_e164(p)?,
            None => None,
        };
        let state = c
            .state
            .as_deref()
            .map(str::parse::<UsState>)
            .transpose()
            .map_err(|e| e.to_string())?;
        let postal_code = c
            .postal_code
            .as_deref()
            .map(PostalCode::parse)
            .transpose()
            .map_err(|e| e.to_string())?;
        let time_zone = c
            .time_zone
            .as_deref()
            .map(|z| {
                z.parse::<chrono_tz::Tz>()
                    .map_err(|_| format!("`{z}` is not an IANA time zone"))
            })
            .transpose()?;
        let inconvenient_times = c
            .inconvenient_times
            .unwrap_or_default()
            .iter()
            .map(|r| LocalRange::parse(&r.from, &r.to))
            .collect::<Result<Vec<_>, _>>()?;
        let consumer = ConsumerFacts {
            area_code,
            state,
            postal_code,
            time_zone,
            inconvenient_times,
            refused_channels: channels(c.refused_channels),
            consented: channels(c.consented),
            opted_out: channels(c.opted_out),
            opted_out_at: c.opted_out_at,
            attorney_represented: c.attorney_represented.unwrap_or(false),
            cease_requested: c.cease_requested.unwrap_or(false),
            bankruptcy: c.bankruptcy.unwrap_or(false),
            deceased: c.deceased.unwrap_or(false),
        };
        let history = self
            .history
            .unwrap_or_default()
            .into_iter()
            .map(|e| ContactEvent {
                at: e.at,
                channel: e.channel,
                // Unknown direction or purpose is read the way that restricts more.
                direction: e.direction.unwrap_or(Direction::Outbound),
                purpose: e.purpose.unwrap_or(Purpose::Reminder),
            })
            .collect();
        let debt = DebtFacts {
            dispute_open: self.debt.and_then(|d| d.dispute_open).unwrap_or(false),
        };
        Ok((
            ContactQuestion {
                channel: self.channel,
                purpose: self.purpose,
                consumer,
                debt,
                history,
            },
            self.now,
        ))
    }
}

/// Writes a question in the dry-run input format, so a logged decision can be replayed
/// with `settle compliance check`. The phone is reduced to its area code (`+1NPA5550100`):
/// the log keeps what the decision used, not the number. Unknown and default facts (null,
/// false, empty lists) are left out, as the input format reads a missing fact as them:
/// the log holds one question per decision, millions a day.
pub fn question_to_value(id: &Value, q: &ContactQuestion, now: DateTime<Utc>) -> Value {
    let mut v = full_question(id, q, now);
    for part in ["consumer", "debt"] {
        if let Some(Value::Object(map)) = v.get_mut(part) {
            map.retain(|_, x| {
                !matches!(x, Value::Null | Value::Bool(false)) && x != &Value::Array(Vec::new())
            });
        }
    }
    v
}

fn full_question(id: &Value, q: &ContactQuestion, now: DateTime<Utc>) -> Value {
    let c = &q.consumer;
    let list = |set: ChannelSet| set.iter().map(Channel::as_str).collect::<Vec<_>>();
    serde_json::json!({
        "id": id,
        "kind": "contact",
        "now": rfc3339(now),
        "channel": q.channel.as_str(),
        "purpose": q.purpose.as_str(),
        "consumer": {
            "phone": c.area_code.map(|a| format!("+1{:03}5550100", a.get())),
            "state": c.state.map(|s| s.code()),
            "postal_code": c.postal_code.as_ref().map(|p| p.zip5()),
            "time_zone": c.time_zone.map(|z| z.name()),
            "inconvenient_times": c.inconvenient_times.iter().map(|r| serde_json::json!({
                "from": r.from().format("%H:%M").to_string(),
                "to": r.to().format("%H:%M").to_string(),
            })).collect::<Vec<_>>(),
            "refused_channels": list(c.refused_channels),
            "consented": list(c.consented),
            "opted_out": list(c.opted_out),
            "opted_out_at": c.opted_out_at.map(rfc3339),
            "attorney_represented": c.attorney_represented,
            "cease_requested": c.cease_requested,
            "bankruptcy": c.bankruptcy,
            "deceased": c.deceased,
        },
        "debt": {"dispute_open": q.debt.dispute_open},
        "history": q.history.iter().map(|e| serde_json::json!({
            "at": rfc3339(e.at),
            "channel": e.channel.as_str(),
            "direction": e.direction.as_str(),
            "purpose": e.purpose.as_str(),
        })).collect::<Vec<_>>(),
    })
}

/// An RFC 3339 UTC instant with a `Z`, to the second.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn contact_output(id: &Value, d: &Decision) -> Value {
    let out = ContactOutput {
        id,
        decision: d.verdict.as_str(),
        reasons: d.reason_codes(),
        citations: d.citations(),
        next_allowed_at: d.next_allowed_at.map(rfc3339),
        required_content: d.required_content.iter().map(|c| c.code()).collect(),
    };
    serde_json::to_value(out).expect("plain data serializes")
}

fn error_output(id: &Value, error: impl Into<String>) -> Value {
    serde_json::to_value(ErrorOutput {
        id,
        error: error.into(),
    })
    .expect("plain data serializes")
}

/// Answers one question given as a JSON value; never fails: a malformed question gets
/// `{"id": ..., "error": ...}`.
pub fn answer(question: Value, policy: &Policy) -> Value {
    let Value::Object(mut map) = question else {
        return error_output(&Value::Null, "a question must be a JSON object");
    };
    let Some(id) = map.remove("id") else {
        return error_output(&Value::Null, "missing field `id`");
    };
    let kind = match map.remove("kind") {
        Some(Value::String(k)) => k,
        Some(_) => return error_output(&id, "`kind` must be a string"),
        None => return error_output(&id, "missing field `kind`"),
    };
    let rest = Value::Object(map);
    match kind.as_str() {
        "contact" => match serde_json::from_value::<ContactInput>(rest)
            .map_err(|e| e.to_string())
            .and_then(ContactInput::into_question)
        {
            Ok((q, now)) => contact_output(&id, &decide(&q, policy, now)),
            Err(e) => error_output(&id, e),
        },
        "validation_period" => match serde_json::from_value::<ValidationInput>(rest) {
            Ok(v) => serde_json::to_value(ValidationOutput {
                id: &id,
                validation_end: validation_period_end(v.sent_on),
            })
            .expect("plain data serializes"),
            Err(e) => error_output(&id, e.to_string()),
        },
        other => error_output(
            &id,
            format!("unknown kind `{other}` (contact, validation_period)"),
        ),
    }
}

/// Answers one JSON Lines line; the answer is one line of JSON without the newline.
pub fn answer_line(line: &str, policy: &Policy) -> String {
    let out = match serde_json::from_str::<Value>(line) {
        Ok(v) => answer(v, policy),
        Err(e) => error_output(&Value::Null, format!("not JSON: {e}")),
    };
    out.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ask(v: Value) -> Value {
        answer(v, &Policy::default())
    }

    #[test]
    fn the_issue_example_is_answered() {
        let out = ask(
            json!({"id": "c1", "kind": "contact", "now": "2026-07-01T13:05:00Z",
            "channel": "sms", "purpose": "reminder",
            "consumer": {"phone": "+16175550123", "state": "MA", "postal_code": "02139",
                "time_zone": null, "inconvenient_times": [{"from": "12:00", "to": "14:00"}],
                "refused_channels": [], "consented": ["sms"], "opted_out": [],
                "opted_out_at": null, "attorney_represented": false, "cease_requested": false,
                "bankruptcy": false, "deceased": false},
            "debt": {"dispute_open": false},
            "history": [{"at": "2026-06-30T15:00:00Z", "channel": "sms",
                "direction": "outbound", "purpose": "reminder"}]}),
        );
        // 13:05Z is 09:05 in Boston: inside the day, outside the lunch range.
        assert_eq!(
            out,
            json!({"id": "c1", "decision": "allow", "reasons": [], "citations": [],
                "next_allowed_at": null,
                "required_content": ["opt_out_notice", "mini_miranda_subsequent"]})
        );
    }

    #[test]
    fn a_written_question_reads_back_to_the_same_decision() {
        let input = json!({"id": "r", "kind": "contact", "now": "2026-07-02T02:30:00Z",
            "channel": "telegram", "purpose": "reminder",
            "consumer": {"phone": "+13035550199", "state": "TX", "postal_code": "79901",
                "inconvenient_times": [{"from": "18:00", "to": "19:30"}],
                "consented": ["telegram"], "opted_out": ["sms"],
                "opted_out_at": "2026-07-01T00:00:00Z"},
            "history": [{"at": "2026-06-30T15:00:00Z", "channel": "sms"}]});
        let Value::Object(mut map) = input.clone() else {
            unreachable!()
        };
        map.remove("id");
        map.remove("kind");
        let (q, now) = serde_json::from_value::<ContactInput>(Value::Object(map))
            .unwrap()
            .into_question()
            .unwrap();
        let written = question_to_value(&json!("r"), &q, now);
        assert_eq!(ask(written), ask(input));
        // Defaults are left out; what is known stays.
        let bare = question_to_value(
            &json!("b"),
            &ContactQuestion {
                channel: Channel::Sms,
                purpose: Purpose::Reminder,
                consumer: Default::default(),
                debt: Default::default(),
                history: Vec::new(),
            },
            now,
        );
        assert_eq!(bare["consumer"], json!({}));
        assert_eq!(bare["debt"], json!({}));
        assert_eq!(ask(bare)["decision"], "deny");
    }

    #[test]
    fn validation_period_questions_get_a_date() {
        let out = ask(json!({"id": "v1", "kind": "validation_period", "sent_on": "2026-12-21"}));
        assert_eq!(out, json!({"id": "v1", "validation_end": "2027-01-28"}));
    }

    #[test]
    fn malformed_questions_get_an_error_with_their_id() {
        for bad in [
            json!({"id": 7, "kind": "contact", "now": "yesterday", "channel": "sms", "purpose": "reminder"}),
            json!({"id": 7, "kind": "contact", "now": "2026-07-01T13:05:00Z", "channel": "fax", "purpose": "reminder"}),
            json!({"id": 7, "kind": "contact", "now": "2026-07-01T13:05:00Z", "channel": "sms"}),
            json!({"id": 7, "kind": "contact", "now": "2026-07-01T13:05:00Z", "channel": "sms", "purpose": "reminder", "consumer": {"opted_ot": ["sms"]}}),
            json!({"id": 7, "kind": "contact", "now": "2026-07-01T13:05:00Z", "channel": "sms", "purpose": "reminder", "consumer": {"time_zone": "Mars/Olympus"}}),
            json!({"id": 7, "kind": "weather"}),
        ] {
            let out = ask(bad);
            assert_eq!(out["id"], json!(7));
            assert!(out["error"].is_string(), "{out}");
        }
        let out: Value =
            serde_json::from_str(&answer_line("{not json", &Policy::default())).unwrap();
        assert_eq!(out["id"], Value::Null);
        assert!(out["error"].is_string());
    }
}
