//! The agency API (`/api/v1`) for agency systems: place accounts (checked exactly as a
//! placement file's rows), read accounts and their ledgers, manage webhook endpoints, and
//! the compliance dry run. Every route but the dry run and the OpenAPI document needs an
//! API key (`Authorization: Bearer stl_...`) with the route's scope; a missing, unknown or
//! revoked key gets 401, a key without the scope 403.

use accounts::api::{ApiKey, EventKind, Scope};
use accounts::{Accounts, Error as StoreError};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use domain::compliance::{wire, Policy};
use domain::{AccountId, AccountRef};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

/// Most questions one request may carry.
pub const MAX_QUESTIONS: usize = 10_000;
/// Most accounts one list request returns.
const MAX_PAGE: i64 = 500;

/// The `/api/v1` routes.
pub fn router(accounts: Accounts, webhook_private_addresses: bool) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/compliance/check", post(check))
        .route("/api/v1/accounts", post(place).get(list_accounts))
        .route("/api/v1/accounts/{id}", get(get_account))
        .route("/api/v1/accounts/{id}/ledger", get(get_ledger))
        .route("/api/v1/webhooks", post(add_webhook).get(list_webhooks))
        .route("/api/v1/webhooks/{id}", delete(remove_webhook))
        .route("/api/v1/webhooks/{id}/deliveries", get(list_deliveries))
        .layer(axum::Extension(WebhookTargets {
            private_addresses: webhook_private_addresses,
        }))
        .with_state(accounts)
}

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Settle agency API",
        description = "Place accounts, read them and their ledgers, and receive events \
            (payments, disputes, opt-outs) through signed webhooks. Each webhook delivery \
            is a POST of one event as JSON with the header `Settle-Signature: t=<unix \
            seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" keyed with the endpoint's \
            secret>`; answer 2xx within 10 seconds, or it is retried with backoff \
            (10 attempts over about eight hours). The same event may arrive twice: \
            use its id."
    ),
    paths(place, list_accounts, get_account, get_ledger, add_webhook, list_webhooks,
          remove_webhook, list_deliveries, check),
    modifiers(&BearerKeys),
    tags(
        (name = "accounts", description = "Placement and account data"),
        (name = "webhooks", description = "Where events are sent"),
        (name = "compliance", description = "The compliance engine's dry run"),
    )
)]
pub struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An agency API key (`stl_...`), made with `settle api-keys add`.",
                    ))
                    .build(),
            ),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// An error answer: `{"error": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    error: String,
}

/// Why a request was refused.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn bad(text: impl Into<String>) -> Self {
        ApiError(StatusCode::BAD_REQUEST, text.into())
    }

    fn not_found(what: &str) -> Self {
        ApiError(StatusCode::NOT_FOUND, format!("no such {what}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(ErrorBody { error: self.1 })).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(text) | StoreError::ImportFile(text) => ApiError::bad(text),
            StoreError::NotFound(what) => ApiError::not_found(what),
            other => {
                tracing::error!("agency API: {other}");
                ApiError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request could not be completed".into(),
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    // One status for every body that cannot be read (not JSON, wrong content type, wrong
    // shape): the client's mistake, explained in the text.
    fn from(e: JsonRejection) -> Self {
        ApiError::bad(e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, e.body_text())
    }
}

/// Which addresses webhook endpoints may have (the `webhook_private_addresses` setting).
#[derive(Debug, Clone, Copy)]
struct WebhookTargets {
    private_addresses: bool,
}

/// The key the request carries, if it is active and has `scope`.
async fn authorize(
    accounts: &Accounts,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<ApiKey, ApiError> {
    let unauthorized = |text: &str| ApiError(StatusCode::UNAUTHORIZED, text.to_string());
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("an API key is required: Authorization: Bearer stl_..."))?;
    let key = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
        .ok_or_else(|| unauthorized("the Authorization header must be: Bearer stl_..."))?;
    let found = accounts
        .authenticate_api_key(key)
        .await?
        .ok_or_else(|| unauthorized("the API key is not valid (unknown or revoked)"))?;
    if !found.allows(scope) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!("this key does not have the {scope} scope"),
        ));
    }
    Ok(found)
}

/// Accounts to place: each an object of the placement file's columns by name (values as
/// text; numbers and booleans are read as their text).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaceRequest {
    /// Up to 1,000 accounts.
    #[schema(value_type = Vec<PlacementFields>, max_items = 1000)]
    accounts: Vec<Map<String, Value>>,
}

/// One account as the placement file's columns (see the README's import section). Money
/// is in major units with a decimal point ("120.50"); dates are YYYY-MM-DD.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PlacementFields {
    account_ref: String,
    creditor: String,
    first_name: String,
    last_name: String,
    date_of_birth: String,
    address_line1: String,
    city: String,
    state: String,
    postal_code: String,
    itemization_date: String,
    balance_at_itemization: String,
    interest_since: String,
    fees_since: String,
    payments_since: String,
    credits_since: String,
    current_balance: String,
    phone: Option<String>,
    email: Option<String>,
    address_line2: Option<String>,
    original_creditor: Option<String>,
    currency: Option<String>,
    time_zone: Option<String>,
    language: Option<String>,
    sms_consent: Option<String>,
    time_barred: Option<String>,
}

/// What placing did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceResult {
    /// The import run recorded for this request.
    run_id: i64,
    /// Accounts received.
    received: u64,
    /// New accounts placed.
    imported: u64,
    /// Accounts whose reference was already placed: left unchanged.
    unchanged: u64,
    /// Accounts refused.
    rejected: u64,
    /// Each refused account and why.
    errors: Vec<PlaceError>,
    /// Field names Settle does not know and ignored.
    ignored_fields: Vec<String>,
}

/// An account that was not placed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceError {
    /// Its position in the request's `accounts` (0-based).
    index: u64,
    /// Its reference, when it had one.
    account_ref: Option<String>,
    /// Every problem found.
    reason: String,
}

fn text_of(value: Value) -> Option<Result<String, ()>> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(Ok(s)),
        Value::Number(n) => Some(Ok(n.to_string())),
        Value::Bool(b) => Some(Ok(b.to_string())),
        Value::Array(_) | Value::Object(_) => Some(Err(())),
    }
}

/// Places accounts, each checked as a placement file's row; good ones are placed even when
/// others are refused.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts",
    request_body = PlaceRequest,
    responses(
        (status = 200, description = "Placed; refused accounts are listed", body = PlaceResult),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks accounts:write", body = ErrorBody),
    ),
    security(("api_key" = ["accounts:write"])))]
async fn place(
    State(accounts): State<Accounts>,
    headers: HeaderMap,
    body: Result<Json<PlaceRequest>, JsonRejection>,
) -> Result<Json<PlaceResult>, ApiError> {
    let key = authorize(&accounts, &headers, Scope::AccountsWrite).await?;
    let Json(request) = body?;
    let received = request.accounts.len() as u64;
    let mut items = Vec::with_capacity(request.accounts.len());
    let mut early = Vec::new();
    for (index, object) in request.accounts.into_iter().enumerate() {
        let mut fields = Vec::with_capacity(object.len());
        let mut bad = Vec::new();
        for (name, value) in object {
            // The importer reads column names this way; two spellings of one name would
            // otherwise make a header with the column twice and refuse the whole request.
            let name = name.trim().to_ascii_lowercase();
            if name.contains(['\0', '\r', '\n']) {
                bad.push("a field name contains a NUL character or a line break".to_string());
                continue;
            }
            if fields.iter().any(|(n, _): &(String, String)| *n == name) {
                bad.push(format!("{name} is given twice"));
                continue;
            }
            match text_of(value) {
                None => {}
                // Each account is one line of the file the importer reads: a line break
                // would split it in two.
                Some(Ok(text)) if text.contains(['\0', '\r', '\n']) => {
                    bad.push(format!("{name} contains a NUL character or a line break"))
                }
                Some(Ok(text)) => fields.push((name, text)),
                Some(Err(())) => bad.push(format!("{name} must be text, a number or a boolean")),
            }
        }
        if bad.is_empty() && fields.iter().all(|(_, v)| v.trim().is_empty()) {
            bad.push("the account has no fields".to_string());
        }
        if bad.is_empty() {
            items.push((index as u64, fields));
        } else {
            let account_ref = fields
                .iter()
                .find(|(n, _)| n == "account_ref")
                .map(|(_, v)| v.clone());
            early.push(PlaceError {
                index: index as u64,
                account_ref,
                reason: bad.join("; "),
            });
        }
    }
    let (positions, fields): (Vec<u64>, Vec<_>) = items.into_iter().unzip();
    let source = format!("api:{} ({})", key.name, key.prefix);
    let (report, errors) = accounts.place_accounts(key.agency, &source, fields).await?;
    let mut all: Vec<PlaceError> = errors
        .into_iter()
        .map(|e| PlaceError {
            // The importer counts file lines; line 2 is the first account sent to it.
            index: positions
                .get(e.line.saturating_sub(2) as usize)
                .copied()
                .unwrap_or_default(),
            account_ref: e.account_ref,
            reason: e.reason,
        })
        .chain(early)
        .collect();
    all.sort_by_key(|e| e.index);
    Ok(Json(PlaceResult {
        run_id: report.run_id,
        received,
        imported: report.imported,
        unchanged: report.unchanged,
        rejected: all.len() as u64,
        errors: all,
        ignored_fields: report.ignored_columns,
    }))
}

/// An account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    /// Settle's id for it.
    id: i64,
    /// The creditor's reference.
    account_ref: String,
    /// The creditor.
    creditor: String,
    /// The original creditor, when different.
    original_creditor: Option<String>,
    /// The consumer's first name.
    first_name: String,
    /// The consumer's last name.
    last_name: String,
    /// The consumer's state (two letters).
    state: String,
    /// `en` or `es`.
    language: String,
    /// ISO 4217 code.
    currency: String,
    /// The balance now, in minor units (cents).
    balance: i64,
    /// The Regulation F itemization as placed.
    itemization: ItemizationOut,
    /// Disputes still open.
    open_disputes: i64,
    /// When it was placed.
    placed_at: DateTime<Utc>,
}

/// The itemization (12 CFR 1006.34(c)(2)), amounts in minor units.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemizationOut {
    /// The itemization date.
    date: NaiveDate,
    /// What was owed on that date.
    balance_at_itemization: i64,
    /// Interest since.
    interest_since: i64,
    /// Fees since.
    fees_since: i64,
    /// Payments since.
    payments_since: i64,
    /// Credits since.
    credits_since: i64,
    /// The amount at placement.
    current: i64,
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    /// Accounts in id order.
    accounts: Vec<AccountOut>,
    /// Pass as `after` for the next page; absent on the last page.
    next_after: Option<i64>,
}

/// How to find accounts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the account with this reference.
    reference: Option<String>,
    /// Accounts with an id above this one.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// At most this many (1-500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// The account with `id`, when it belongs to the key's agency.
async fn owned(
    accounts: &Accounts,
    key: &ApiKey,
    id: i64,
) -> Result<accounts::AccountRecord, ApiError> {
    match accounts.account(AccountId(id)).await {
        Ok(a) if a.agency_id == key.agency => Ok(a),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(ApiError::not_found("account")),
        Err(e) => Err(e.into()),
    }
}

async fn account_out(
    accounts: &Accounts,
    a: accounts::AccountRecord,
) -> Result<AccountOut, ApiError> {
    let balance = accounts.balance(a.id).await?;
    let open_disputes = accounts.open_disputes(a.id).await?;
    let it = &a.itemization;
    Ok(AccountOut {
        id: a.id.0,
        account_ref: a.account_ref.as_str().to_string(),
        creditor: a.creditor.clone(),
        original_creditor: a.original_creditor.clone(),
        first_name: a.name.first().to_string(),
        last_name: a.name.last().to_string(),
        state: a.address.state().code().to_string(),
        language: a.language.tag().to_string(),
        currency: it.currency().code().to_string(),
        balance: balance.minor(),
        itemization: ItemizationOut {
            date: it.date(),
            balance_at_itemization: it.balance_at_itemization().minor(),
            interest_since: it.interest_since().minor(),
            fees_since: it.fees_since().minor(),
            payments_since: it.payments_since().minor(),
            credits_since: it.credits_since().minor(),
            current: it.current().minor(),
        },
        open_disputes,
        placed_at: a.placed_at,
    })
}

/// Lists the agency's accounts in id order, or finds one by its reference.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", params(ListQuery),
    responses(
        (status = 200, description = "A page of accounts", body = AccountList),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks accounts:read", body = ErrorBody),
    ),
    security(("api_key" = ["accounts:read"])))]
async fn list_accounts(
    State(accounts): State<Accounts>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<AccountList>, ApiError> {
    let key = authorize(&accounts, &headers, Scope::AccountsRead).await?;
    let Query(query) = query?;
    if let Some(reference) = query.reference {
        let found = match AccountRef::parse(&reference) {
            Ok(r) => accounts.account_by_ref(key.agency, &r).await?,
            Err(_) => None,
        };
        let mut list = Vec::new();
        if let Some(a) = found {
            list.push(account_out(&accounts, a).await?);
        }
        return Ok(Json(AccountList {
            accounts: list,
            next_after: None,
        }));
    }
    let limit = query.limit.unwrap_or(100);
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad("after must be 0 or more"));
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let ids = accounts.account_ids(key.agency, after, limit).await?;
    let mut list = Vec::with_capacity(ids.len());
    for id in &ids {
        list.push(account_out(&accounts, accounts.account(*id).await?).await?);
    }
    let next_after = (ids.len() as i64 == limit)
        .then(|| ids.last().map(|i| i.0))
        .flatten();
    Ok(Json(AccountList {
        accounts: list,
        next_after,
    }))
}

/// One of the agency's accounts.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account", body = AccountOut),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks accounts:read", body = ErrorBody),
        (status = 404, description = "No such account for this agency", body = ErrorBody),
    ),
    security(("api_key" = ["accounts:read"])))]
async fn get_account(
    State(accounts): State<Accounts>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<AccountOut>, ApiError> {
    let key = authorize(&accounts, &headers, Scope::AccountsRead).await?;
    let Path(id) = id?;
    let account = owned(&accounts, &key, id).await?;
    Ok(Json(account_out(&accounts, account).await?))
}

/// An account's ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerOut {
    /// ISO 4217 code.
    currency: String,
    /// The balance now, in minor units.
    balance: i64,
    /// Every posting, oldest first.
    postings: Vec<PostingOut>,
}

/// One ledger posting.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostingOut {
    /// Its id.
    id: i64,
    /// `placement`, `interest`, `fee`, `payment`, `refund`, `chargeback`, `adjustment` or
    /// `settlement_write_off`.
    kind: String,
    /// Signed, in minor units: what it adds to the balance.
    amount: i64,
    /// Who posted it.
    actor: String,
    /// Why.
    memo: String,
    /// When.
    posted_at: DateTime<Utc>,
}

/// One of the agency's accounts' ledger, oldest posting first.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/ledger", tag = "accounts",
    params(("id" = i64, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The ledger", body = LedgerOut),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks accounts:read", body = ErrorBody),
        (status = 404, description = "No such account for this agency", body = ErrorBody),
    ),
    security(("api_key" = ["accounts:read"])))]
async fn get_ledger(
    State(accounts): State<Accounts>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<LedgerOut>, ApiError> {
    let key = authorize(&accounts, &headers, Scope::AccountsRead).await?;
    let Path(id) = id?;
    let account = owned(&accounts, &key, id).await?;
    let balance = accounts.balance(account.id).await?;
    let postings = accounts
        .postings(account.id)
        .await?
        .into_iter()
        .map(|p| PostingOut {
            id: p.id,
            kind: p.posting.kind().as_str().to_string(),
            amount: p.posting.amount().minor(),
            actor: p.posting.actor().to_string(),
            memo: p.posting.memo().to_string(),
            posted_at: p.posted_at,
        })
        .collect();
    Ok(Json(LedgerOut {
        currency: balance.currency().code().to_string(),
        balance: balance.minor(),
        postings,
    }))
}

/// A webhook endpoint to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWebhook {
    /// Where to POST events (http or https).
    #[schema(
        format = "uri",
        min_length = 8,
        max_length = 2000,
        pattern = "^https?://"
    )]
    url: String,
    /// Event types: `payment.received`, `payment.refunded`, `payment.charged_back`,
    /// `dispute.opened`, `dispute.answered`, `consent.opted_out`, `consent.opted_in`.
    #[schema(min_items = 1, value_type = Vec<EventName>)]
    events: Vec<String>,
}

/// An event type, as webhooks name it.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub enum EventName {
    /// A payment was credited.
    #[schema(rename = "payment.received")]
    PaymentReceived,
    /// A payment was refunded.
    #[schema(rename = "payment.refunded")]
    PaymentRefunded,
    /// A payment was charged back.
    #[schema(rename = "payment.charged_back")]
    PaymentChargedBack,
    /// The debtor disputed the debt.
    #[schema(rename = "dispute.opened")]
    DisputeOpened,
    /// The agency answered a dispute.
    #[schema(rename = "dispute.answered")]
    DisputeAnswered,
    /// The debtor opted out of a medium.
    #[schema(rename = "consent.opted_out")]
    OptedOut,
    /// The debtor opted back in.
    #[schema(rename = "consent.opted_in")]
    OptedIn,
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    /// Its id.
    id: i64,
    /// Where events are posted.
    url: String,
    /// The event types it receives.
    events: Vec<String>,
    /// When it was added.
    created_at: DateTime<Utc>,
    /// When it was removed, if it was.
    disabled_at: Option<DateTime<Utc>>,
}

/// A new endpoint with its signing secret, shown this once (no `Debug`: the secret must not
/// reach a log).
#[derive(Serialize, ToSchema)]
pub struct WebhookCreated {
    /// The endpoint.
    endpoint: WebhookOut,
    /// The secret that signs its deliveries (`Settle-Signature`).
    secret: String,
}

/// The agency's webhook endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// Oldest first, removed ones included.
    webhooks: Vec<WebhookOut>,
}

fn webhook_out(e: accounts::api::WebhookEndpoint) -> WebhookOut {
    WebhookOut {
        id: e.id,
        url: e.url,
        events: e.events.iter().map(|k| k.as_str().to_string()).collect(),
        created_at: e.created_at,
        disabled_at: e.disabled_at,
    }
}

/// Adds a webhook endpoint; its secret is in the answer and never shown again.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses(
        (status = 201, description = "Added", body = WebhookCreated),
        (status = 400, description = "Bad URL or event type", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks webhooks or accounts:read", body = ErrorBody),
    ),
    security(("api_key" = ["webhooks", "accounts:read"])))]
async fn add_webhook(
    State(accounts): State<Accounts>,
    axum::Extension(targets): axum::Extension<WebhookTargets>,
    headers: HeaderMap,
    body: Result<Json<NewWebhook>, JsonRejection>,
) -> Result<(StatusCode, Json<WebhookCreated>), ApiError> {
    let key = authorize(&accounts, &headers, Scope::Webhooks).await?;
    // Events carry account references, amounts and dispute reasons: only a key that may
    // read accounts may have them sent somewhere.
    if !key.allows(Scope::AccountsRead) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "receiving events reveals account data: the key needs accounts:read as well".into(),
        ));
    }
    let Json(new) = body?;
    let url = reqwest::Url::parse(new.url.trim())
        .map_err(|e| ApiError::bad(format!("the URL cannot be used: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ApiError::bad("the URL must be http or https, with a host"));
    }
    if !targets.private_addresses {
        if let Some(why) = crate::webhooks::refused_address(&url) {
            return Err(ApiError::bad(format!(
                "the URL cannot be used: {why} (only public addresses receive events)"
            )));
        }
    }
    let events = new
        .events
        .iter()
        .map(|e| e.parse::<EventKind>())
        .collect::<Result<Vec<_>, _>>()?;
    let (endpoint, secret) = accounts
        .add_webhook(key.agency, url.as_str(), &events)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreated {
            endpoint: webhook_out(endpoint),
            secret: secret.expose_secret().to_string(),
        }),
    ))
}

/// Lists the agency's webhook endpoints (never their secrets).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses(
        (status = 200, description = "The endpoints", body = WebhookList),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks webhooks", body = ErrorBody),
    ),
    security(("api_key" = ["webhooks"])))]
async fn list_webhooks(
    State(accounts): State<Accounts>,
    headers: HeaderMap,
) -> Result<Json<WebhookList>, ApiError> {
    let key = authorize(&accounts, &headers, Scope::Webhooks).await?;
    let webhooks = accounts
        .webhooks(key.agency)
        .await?
        .into_iter()
        .map(webhook_out)
        .collect();
    Ok(Json(WebhookList { webhooks }))
}

/// Removes an endpoint: nothing more is sent to it.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks webhooks", body = ErrorBody),
        (status = 404, description = "No such active endpoint", body = ErrorBody),
    ),
    security(("api_key" = ["webhooks"])))]
async fn remove_webhook(
    State(accounts): State<Accounts>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let key = authorize(&accounts, &headers, Scope::Webhooks).await?;
    let Path(id) = id?;
    if accounts.remove_webhook(key.agency, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook endpoint"))
    }
}

/// The latest deliveries to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first, at most 100.
    deliveries: Vec<DeliveryOut>,
}

/// One event's delivery to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    /// The delivery's id.
    id: i64,
    /// The event's id (the `id` in the body delivered).
    event_id: i64,
    /// The event's type.
    event_type: String,
    /// Attempts made.
    attempts: i32,
    /// When a 2xx answer came.
    delivered_at: Option<DateTime<Utc>>,
    /// When it was given up.
    failed_at: Option<DateTime<Utc>>,
    /// The last HTTP status received, if any.
    last_status: Option<i32>,
}

/// The latest deliveries to one of the agency's active endpoints, to see why events are
/// missing.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Newest first", body = DeliveryList),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "The key lacks webhooks", body = ErrorBody),
        (status = 404, description = "No such active endpoint", body = ErrorBody),
    ),
    security(("api_key" = ["webhooks"])))]
async fn list_deliveries(
    State(accounts): State<Accounts>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<DeliveryList>, ApiError> {
    let key = authorize(&accounts, &headers, Scope::Webhooks).await?;
    let Path(id) = id?;
    let active = accounts
        .webhooks(key.agency)
        .await?
        .iter()
        .any(|e| e.id == id && e.disabled_at.is_none());
    if !active {
        return Err(ApiError::not_found("webhook endpoint"));
    }
    let deliveries = accounts
        .webhook_deliveries(key.agency, id, 100)
        .await?
        .into_iter()
        .map(|d| DeliveryOut {
            id: d.id,
            event_id: d.event_id,
            event_type: d.kind,
            attempts: d.attempts,
            delivered_at: d.delivered_at,
            failed_at: d.failed_at,
            last_status: d.last_status,
        })
        .collect();
    Ok(Json(DeliveryList { deliveries }))
}

/// `POST /api/v1/compliance/check`: an array of questions in, an array of answers out, in
/// order; a malformed question gets `{"id": ..., "error": ...}` in its place. Reads and
/// writes no stored data, so it needs no key.
#[utoipa::path(post, path = "/api/v1/compliance/check", tag = "compliance",
    request_body(content = Vec<Object>, description = "Questions (see the README)"),
    responses(
        (status = 200, description = "One answer per question, in order", body = Vec<Object>),
        (status = 400, description = "Not an array", body = ErrorBody),
        (status = 413, description = "Too many questions", body = ErrorBody),
    ))]
async fn check(body: Result<Json<Value>, JsonRejection>) -> Result<Json<Vec<Value>>, ApiError> {
    let Json(body) = body?;
    let Value::Array(questions) = body else {
        return Err(ApiError::bad("the body must be a JSON array of questions"));
    };
    if questions.len() > MAX_QUESTIONS {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_QUESTIONS} questions per request"),
        ));
    }
    let policy = Policy::default();
    Ok(Json(
        questions
            .into_iter()
            .map(|q| wire::answer(q, &policy))
            .collect(),
    ))
}
