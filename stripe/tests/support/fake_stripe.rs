//! A small fake of Stripe's API on loopback: the endpoints Settle calls, answering with
//! objects complete enough for async-stripe to read, honouring `Idempotency-Key`, and making
//! webhook events signed with Stripe's scheme. It keeps the truth the tests compare with:
//! what was charged, refunded and lost in disputes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The webhook signing secret the fake signs with.
pub const SECRET: &str = "whsec_fake_settle_tests";

/// A declining test payment method, as in Stripe's test mode.
pub const DECLINING_METHOD: &str = "pm_card_chargeDeclined";

#[derive(Default)]
struct Inner {
    n: u64,
    now: i64,
    customers: HashMap<String, Value>,
    sessions: HashMap<String, Value>,
    intents: HashMap<String, Value>,
    setup_intents: HashMap<String, Value>,
    idempotent: HashMap<String, (u16, Value)>,
    /// Payment intents created by `POST /v1/payment_intents`, keys included.
    pub charges_created: u32,
    /// Net money kept per account: received minus refunded minus lost.
    net: HashMap<i64, i64>,
}

impl Inner {
    fn next(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}_{:08}", self.n)
    }
}

/// The running fake.
#[derive(Clone)]
pub struct FakeStripe {
    /// Base URL to give async-stripe.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

type Shared = Arc<Mutex<Inner>>;

fn metadata_from(form: &[(String, String)], prefix: &str) -> Value {
    let map: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            let key = k
                .strip_prefix(prefix)?
                .strip_prefix('[')?
                .strip_suffix(']')?;
            Some((key.to_string(), Value::String(v.clone())))
        })
        .collect();
    Value::Object(map)
}

fn field<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn intent_json(id: &str, amount: i64, status: &str, metadata: Value, created: i64) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_received": if status == "succeeded" { amount } else { 0 },
        "capture_method": "automatic", "confirmation_method": "automatic",
        "created": created, "currency": "usd", "livemode": false, "metadata": metadata,
        "payment_method_types": ["card"], "status": status
    })
}

fn session_json(id: &str, mode: &str, url: &str, metadata: Value, amount: Option<i64>) -> Value {
    json!({
        "id": id, "object": "checkout.session", "mode": mode, "url": url,
        "automatic_tax": {"enabled": false}, "created": 1_700_000_000, "custom_fields": [],
        "custom_text": {}, "expires_at": 1_800_000_000, "livemode": false,
        "payment_method_types": ["card"], "payment_status": "unpaid", "shipping_options": [],
        "metadata": metadata, "amount_total": amount, "currency": "usd", "status": "open"
    })
}

async fn create_customer(
    State(s): State<Shared>,
    Form(form): Form<Vec<(String, String)>>,
) -> Json<Value> {
    let mut s = s.lock().unwrap();
    let id = s.next("cus");
    let c = json!({"id": id, "object": "customer", "created": 1_700_000_000, "livemode": false,
        "metadata": metadata_from(&form, "metadata")});
    s.customers.insert(id, c.clone());
    Json(c)
}

async fn create_session(
    State(s): State<Shared>,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    let mut s = s.lock().unwrap();
    let id = s.next("cs");
    let mode = field(&form, "mode").unwrap_or("payment").to_string();
    let amount =
        field(&form, "line_items[0][price_data][unit_amount]").and_then(|a| a.parse().ok());
    if mode == "payment" && amount.is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": {"type": "invalid_request_error", "message": "line_items required"}}),
            ),
        );
    }
    let mut session = session_json(
        &id,
        &mode,
        &format!("https://checkout.fake/{id}"),
        metadata_from(&form, "metadata"),
        amount,
    );
    session["customer"] = field(&form, "customer")
        .map(Value::from)
        .unwrap_or(Value::Null);
    session["_intent_metadata"] = metadata_from(&form, "payment_intent_data[metadata]");
    s.sessions.insert(id, session.clone());
    let mut out = session;
    out.as_object_mut().unwrap().remove("_intent_metadata");
    (StatusCode::OK, Json(out))
}

async fn create_intent(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    let mut s = s.lock().unwrap();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some((status, body)) = key.as_ref().and_then(|k| s.idempotent.get(k)) {
        return (StatusCode::from_u16(*status).unwrap(), Json(body.clone()));
    }
    s.charges_created += 1;
    let id = s.next("pi");
    let amount: i64 = field(&form, "amount")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let metadata = metadata_from(&form, "metadata");
    let declined = field(&form, "payment_method") == Some(DECLINING_METHOD);
    let created = s.now;
    let (status, body) = if declined {
        let pi = intent_json(&id, amount, "requires_payment_method", metadata, created);
        s.intents.insert(id.clone(), pi.clone());
        (
            402,
            json!({"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "generic_decline", "message": "Your card was declined.",
            "payment_intent": pi}}),
        )
    } else {
        let pi = intent_json(&id, amount, "succeeded", metadata.clone(), created);
        s.intents.insert(id.clone(), pi.clone());
        if let Some(account) = metadata["account_id"].as_str().and_then(|a| a.parse().ok()) {
            *s.net.entry(account).or_default() += amount;
        }
        (200, pi)
    };
    if let Some(k) = key {
        s.idempotent.insert(k, (status, body.clone()));
    }
    (StatusCode::from_u16(status).unwrap(), Json(body))
}

async fn get_intent(State(s): State<Shared>, Path(id): Path<String>) -> (StatusCode, Json<Value>) {
    match s.lock().unwrap().intents.get(&id) {
        Some(pi) => (StatusCode::OK, Json(pi.clone())),
        None => (
            StatusCode::NOT_FOUND,
            Json(
                json!({"error": {"type": "invalid_request_error", "message": "no such payment_intent"}}),
            ),
        ),
    }
}

async fn list_intents(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let since: i64 = q
        .get("created[gte]")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let s = s.lock().unwrap();
    let mut data: Vec<Value> = s
        .intents
        .values()
        .filter(|pi| pi["created"].as_i64().unwrap_or(0) >= since)
        .cloned()
        .collect();
    data.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Json(json!({"object": "list", "data": data, "has_more": false, "url": "/v1/payment_intents"}))
}

async fn get_setup_intent(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    match s.lock().unwrap().setup_intents.get(&id) {
        Some(si) => (StatusCode::OK, Json(si.clone())),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"type": "invalid_request_error"}})),
        ),
    }
}

impl FakeStripe {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> FakeStripe {
        let inner: Shared = Arc::new(Mutex::new(Inner {
            now: 1_790_000_000,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/v1/customers", post(create_customer))
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/payment_intents", post(create_intent).get(list_intents))
            .route("/v1/payment_intents/{id}", get(get_intent))
            .route("/v1/setup_intents/{id}", get(get_setup_intent))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeStripe { url, inner }
    }

    /// An event as Stripe sends it.
    fn event(&self, kind: &str, object: Value) -> String {
        let mut s = self.inner.lock().unwrap();
        let id = s.next("evt");
        json!({"id": id, "object": "event", "created": s.now, "livemode": false,
            "pending_webhooks": 1, "type": kind, "data": {"object": object}})
        .to_string()
    }

    /// Signs a payload as Stripe does: `t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`.
    pub fn sign(payload: &str, t: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.{payload}").as_bytes());
        format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// The debtor pays on the hosted page: the payment succeeds; Stripe reports it twice
    /// (the payment and the Checkout Session). Returns the events and the payment's id.
    pub fn pay(&self, session: &str) -> (Vec<String>, String) {
        let (pi, cs) = {
            let mut s = self.inner.lock().unwrap();
            let cs = s.sessions.get(session).cloned().expect("session");
            let id = s.next("pi");
            let amount = cs["amount_total"].as_i64().unwrap();
            let metadata = cs["_intent_metadata"].clone();
            let created = s.now;
            let pi = intent_json(&id, amount, "succeeded", metadata.clone(), created);
            s.intents.insert(id.clone(), pi.clone());
            if let Some(account) = metadata["account_id"].as_str().and_then(|a| a.parse().ok()) {
                *s.net.entry(account).or_default() += amount;
            }
            let mut cs = cs;
            cs["payment_status"] = json!("paid");
            cs["status"] = json!("complete");
            cs["payment_intent"] = json!(id);
            cs.as_object_mut().unwrap().remove("_intent_metadata");
            (pi, cs)
        };
        let id = pi["id"].as_str().unwrap().to_string();
        (
            vec![
                self.event("payment_intent.succeeded", pi),
                self.event("checkout.session.completed", cs),
            ],
            id,
        )
    }

    /// The debtor saves `method` on a setup-mode page.
    pub fn save_card(&self, session: &str, method: &str) -> String {
        let cs = {
            let mut s = self.inner.lock().unwrap();
            let mut cs = s.sessions.get(session).cloned().expect("session");
            let si = s.next("seti");
            s.setup_intents.insert(
                si.clone(),
                json!({"id": si, "object": "setup_intent",
                "created": 1_700_000_000, "livemode": false, "payment_method_types": ["card"],
                "status": "succeeded", "usage": "off_session", "payment_method": method,
                "customer": cs["customer"]}),
            );
            cs["setup_intent"] = json!(si);
            cs["status"] = json!("complete");
            cs["payment_status"] = json!("no_payment_required");
            cs.as_object_mut().unwrap().remove("_intent_metadata");
            cs
        };
        self.event("checkout.session.completed", cs)
    }

    /// The agency refunds part of a payment from Stripe's dashboard.
    pub fn refund(&self, intent: &str, amount: i64) -> String {
        let refund = {
            let mut s = self.inner.lock().unwrap();
            let id = s.next("re");
            let account = s.intents[intent]["metadata"]["account_id"]
                .as_str()
                .and_then(|a| a.parse::<i64>().ok());
            if let Some(a) = account {
                *s.net.entry(a).or_default() -= amount;
            }
            json!({"id": id, "object": "refund", "amount": amount, "created": s.now,
                "currency": "usd", "status": "succeeded", "payment_intent": intent})
        };
        self.event("refund.created", refund)
    }

    /// The card holder disputes a payment and the dispute is lost.
    pub fn dispute_lost(&self, intent: &str) -> String {
        let dispute = {
            let mut s = self.inner.lock().unwrap();
            let id = s.next("dp");
            let pi = s.intents[intent].clone();
            let amount = pi["amount_received"].as_i64().unwrap();
            if let Some(a) = pi["metadata"]["account_id"]
                .as_str()
                .and_then(|a| a.parse::<i64>().ok())
            {
                *s.net.entry(a).or_default() -= amount;
            }
            json!({"id": id, "object": "dispute", "amount": amount, "balance_transactions": [],
                "charge": "ch_fake", "created": s.now, "currency": "usd",
                "enhanced_eligibility_types": [], "evidence": {"enhanced_evidence": {}},
                "evidence_details": {"enhanced_eligibility": {}, "has_evidence": false,
                    "past_due": false, "submission_count": 0},
                "is_charge_refundable": false, "livemode": false, "metadata": {},
                "reason": "fraudulent", "status": "lost", "payment_intent": intent})
        };
        self.event("charge.dispute.closed", dispute)
    }

    /// What Stripe holds for an account: received minus refunded minus lost, in cents.
    pub fn net(&self, account: i64) -> i64 {
        self.inner
            .lock()
            .unwrap()
            .net
            .get(&account)
            .copied()
            .unwrap_or(0)
    }

    /// How many payments were created through the API (each idempotency key counts once).
    pub fn charges_created(&self) -> u32 {
        self.inner.lock().unwrap().charges_created
    }

    /// Moves the fake's clock (payment creation times, for reconciliation windows).
    pub fn set_now(&self, unix: i64) {
        self.inner.lock().unwrap().now = unix;
    }
}
