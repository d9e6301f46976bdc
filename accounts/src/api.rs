//! The agency API's storage: API keys (random, shown once, kept as a SHA-256, scoped,
//! revocable), webhook endpoints, the events written by database triggers in the same
//! transaction as the change they describe, and the deliveries of those events with their
//! retries. Placing accounts through the API goes through the CSV importer itself, so a row
//! is refused for exactly the reasons a file's row would be.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use domain::AgencyId;
use rand::distr::{Alphanumeric, SampleString};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::db::with_db;
use crate::error::{Error, Result};
use crate::import::{ImportReport, RowError, OPTIONAL_COLUMNS, REQUIRED_COLUMNS};
use crate::users::AgencyUser;
use crate::{Accounts, Engine};

/// What a key starts with, so a leaked one is easy to recognise in a scan.
pub const KEY_PREFIX: &str = "stl_";
/// Random characters after the prefix (about 190 bits).
const KEY_RANDOM_CHARS: usize = 32;
/// Characters of a key kept in the clear to tell keys apart in lists.
const SHOWN_CHARS: usize = KEY_PREFIX.len() + 6;
/// Delivery attempts before a webhook delivery is given up.
pub const MAX_ATTEMPTS: i32 = 10;
/// Accounts one API request may place.
pub const MAX_PLACEMENTS: usize = 1_000;
/// The longest webhook URL accepted.
pub const MAX_URL_CHARS: usize = 2_000;
/// The longest key or endpoint name accepted.
const MAX_NAME_CHARS: usize = 100;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read accounts and their ledgers.
    AccountsRead,
    /// Place accounts.
    AccountsWrite,
    /// Manage webhook endpoints.
    Webhooks,
}

impl Scope {
    /// Every scope, in the order lists show them.
    pub const ALL: [Scope; 3] = [Scope::AccountsRead, Scope::AccountsWrite, Scope::Webhooks];

    /// The scope's name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AccountsRead => "accounts:read",
            Scope::AccountsWrite => "accounts:write",
            Scope::Webhooks => "webhooks",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown scope {s:?} (known: accounts:read, accounts:write, webhooks)"
                ))
            })
    }
}

/// The kinds of event an agency can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A payment was credited to an account.
    PaymentReceived,
    /// A payment was refunded.
    PaymentRefunded,
    /// A payment was charged back.
    PaymentChargedBack,
    /// The debtor disputed the debt.
    DisputeOpened,
    /// The agency answered a dispute.
    DisputeAnswered,
    /// The debtor opted out of a medium (STOP...).
    OptedOut,
    /// The debtor opted back in.
    OptedIn,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 7] = [
        EventKind::PaymentReceived,
        EventKind::PaymentRefunded,
        EventKind::PaymentChargedBack,
        EventKind::DisputeOpened,
        EventKind::DisputeAnswered,
        EventKind::OptedOut,
        EventKind::OptedIn,
    ];

    /// The kind's name on the wire and in storage (the triggers write these names).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PaymentReceived => "payment.received",
            EventKind::PaymentRefunded => "payment.refunded",
            EventKind::PaymentChargedBack => "payment.charged_back",
            EventKind::DisputeOpened => "dispute.opened",
            EventKind::DisputeAnswered => "dispute.answered",
            EventKind::OptedOut => "consent.opted_out",
            EventKind::OptedIn => "consent.opted_in",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| Error::Invalid(format!("unknown event type {s:?}")))
    }
}

/// An API key as lists show it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id.
    pub id: i64,
    /// The agency whose data it reaches.
    pub agency: AgencyId,
    /// What its owner called it.
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Who made it (`user:N` or `cli`).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked key opens nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// True when the key carries `scope`.
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A webhook endpoint as lists show it: never its signing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: i64,
    /// Where deliveries are posted.
    pub url: String,
    /// The events it receives.
    pub events: Vec<EventKind>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it was removed; a removed endpoint receives nothing more.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// One event, as a webhook delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiEvent {
    /// Its id: the same event delivered twice has the same id.
    pub id: i64,
    /// What happened.
    pub kind: String,
    /// The account it happened to.
    pub account_id: i64,
    /// The creditor's reference of that account.
    pub account_ref: String,
    /// The posting or dispute, when there is one.
    pub object_id: Option<i64>,
    /// The payment's source, the dispute's reason or answer, or the medium opted out of.
    pub detail: String,
    /// The amount in minor units, for payments.
    pub amount: Option<i64>,
    /// The account's currency.
    pub currency: String,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// A delivery the worker has claimed and must now attempt.
pub struct DueDelivery {
    /// The delivery's id.
    pub id: i64,
    /// Which attempt this is (1 for the first).
    pub attempt: i32,
    /// Where to post.
    pub url: String,
    /// The endpoint's signing secret.
    pub secret: SecretString,
    /// What to send.
    pub event: ApiEvent,
}

impl fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DueDelivery")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("url", &self.url)
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

/// A delivery's state, for the agency and for tests.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryState {
    /// The delivery's id.
    pub id: i64,
    /// The event delivered.
    pub event_id: i64,
    /// The event's kind.
    pub kind: String,
    /// Attempts made.
    pub attempts: i32,
    /// When it was received with a 2xx.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was given up.
    pub failed_at: Option<DateTime<Utc>>,
    /// The last HTTP status received.
    pub last_status: Option<i32>,
}

/// One account to place through the API: the placement file's columns, by name.
pub type PlacementFields = Vec<(String, String)>;

/// A random secret of `n` alphanumeric characters.
fn random(n: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), n)
}

/// The stored form of a key.
fn key_hash(key: &str) -> String {
    hex_digest(Sha256::digest(key.as_bytes()).as_slice())
}

fn hex_digest(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_list<T: FromStr<Err = Error>>(text: &str) -> Result<Vec<T>> {
    text.split_whitespace().map(str::parse).collect()
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn short_name(name: &str, what: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Invalid(format!("{what} is required")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::Invalid(format!(
            "{what} is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_string())
}

/// The delay after failed attempt `attempts` (1 for the first): 60 s, doubling each time,
/// at most 6 hours; the ten attempts span about eight and a half hours.
pub fn retry_delay(attempts: i32) -> Duration {
    let secs = 30i64 << attempts.clamp(0, 20);
    Duration::seconds(secs.min(6 * 3600))
}

type KeyRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

const KEY_COLUMNS: &str =
    "id, agency_id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at";

fn key_from_row(r: KeyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.0,
        agency: AgencyId(r.1),
        name: r.2,
        prefix: r.3,
        scopes: parse_list(&r.4).map_err(|e| Error::Corrupt(e.to_string()))?,
        created_by: r.5,
        created_at: r.6,
        last_used_at: r.7,
        revoked_at: r.8,
    })
}

type EndpointRow = (i64, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn endpoint_from_row(r: EndpointRow) -> Result<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: r.0,
        url: r.1,
        events: parse_list(&r.2).map_err(|e| Error::Corrupt(e.to_string()))?,
        created_at: r.3,
        disabled_at: r.4,
    })
}

/// Checks a webhook URL's shape: http or https, a host, no spaces, not too long. The server
/// parses it fully before calling.
fn check_url(url: &str) -> Result<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| Error::Invalid("the URL must start with https:// or http://".into()))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Error::Invalid("the URL has no host".into()));
    }
    if url.chars().count() > MAX_URL_CHARS || url.chars().any(char::is_whitespace) {
        return Err(Error::Invalid(format!(
            "the URL must be at most {MAX_URL_CHARS} characters, without spaces"
        )));
    }
    Ok(url.to_string())
}

impl Accounts {
    /// Makes an API key for `agency` with `scopes`, made by a console user (audited in the
    /// same transaction) or by the command line (`None`). The key is returned once and never
    /// stored: only its SHA-256 is (a random 190-bit key needs no slow hash).
    pub async fn create_api_key(
        &self,
        agency: AgencyId,
        name: &str,
        scopes: &[Scope],
        by: Option<&AgencyUser>,
    ) -> Result<(ApiKey, SecretString)> {
        let name = short_name(name, "a name for the key")?;
        if scopes.is_empty() {
            return Err(Error::Invalid("a key needs at least one scope".into()));
        }
        if by.is_some_and(|u| u.agency != agency) {
            return Err(Error::NotFound("agency"));
        }
        let mut scopes = scopes.to_vec();
        scopes.sort_by_key(|s| Scope::ALL.iter().position(|a| a == s));
        scopes.dedup();
        let key = format!("{KEY_PREFIX}{}", random(KEY_RANDOM_CHARS));
        let prefix = key[..SHOWN_CHARS].to_string();
        let created_by = by.map_or_else(|| "cli".to_string(), |u| u.actor().to_string());
        let now = self.clock.now();
        let id: i64 = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_keys (agency_id, name, prefix, key_hash, scopes, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(agency.0)
            .bind(&name)
            .bind(&prefix)
            .bind(key_hash(&key))
            .bind(join(&scopes))
            .bind(&created_by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(user) = by {
                crate::console::audit_in!(
                    tx,
                    agency.0,
                    user.id,
                    "api_key_created",
                    None::<i64>,
                    format!("key {id} “{name}” ({prefix}…): {}", join(&scopes)),
                    now
                );
            }
            tx.commit().await?;
            id
        });
        let record = ApiKey {
            id,
            agency,
            name,
            prefix,
            scopes,
            created_by,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        Ok((record, SecretString::from(key)))
    }

    /// The agency's keys, newest first, revoked ones included.
    pub async fn api_keys(&self, agency: AgencyId) -> Result<Vec<ApiKey>> {
        let sql =
            format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE agency_id = $1 ORDER BY id DESC");
        let rows: Vec<KeyRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(agency.0).fetch_all(pool).await?
        });
        rows.into_iter().map(key_from_row).collect()
    }

    /// Revokes one of the agency's keys, by a console user (audited in the same transaction)
    /// or the command line; false when it has no such key still active.
    pub async fn revoke_api_key(
        &self,
        agency: AgencyId,
        id: i64,
        by: Option<&AgencyUser>,
    ) -> Result<bool> {
        if by.is_some_and(|u| u.agency != agency) {
            return Ok(false);
        }
        let now = self.clock.now();
        let done = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE api_keys SET revoked_at = $1
                 WHERE id = $2 AND agency_id = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .bind(agency.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if let (1, Some(user)) = (done, by) {
                crate::console::audit_in!(
                    tx,
                    agency.0,
                    user.id,
                    "api_key_revoked",
                    None::<i64>,
                    format!("key {id}"),
                    now
                );
            }
            tx.commit().await?;
            done
        });
        Ok(done == 1)
    }

    /// The active key `key` is, if any (unknown and revoked keys alike give `None`), noting
    /// its use at most once a minute so busy clients do not write on every request.
    pub async fn authenticate_api_key(&self, key: &str) -> Result<Option<ApiKey>> {
        if !key.starts_with(KEY_PREFIX) || key.len() > 200 {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        let hash = key_hash(key);
        let row: Option<KeyRow> = with_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(&hash).fetch_optional(pool).await?
        });
        let Some(row) = row else { return Ok(None) };
        let mut found = key_from_row(row)?;
        let now = self.clock.now();
        if found
            .last_used_at
            .is_none_or(|t| now - t >= Duration::minutes(1))
        {
            with_db!(&self.db, pool => {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(found.id)
                    .execute(pool)
                    .await?;
            });
            found.last_used_at = Some(now);
        }
        Ok(Some(found))
    }

    /// Adds a webhook endpoint; its signing secret is returned once (and kept, to sign).
    pub async fn add_webhook(
        &self,
        agency: AgencyId,
        url: &str,
        events: &[EventKind],
    ) -> Result<(WebhookEndpoint, SecretString)> {
        let url = check_url(url)?;
        if events.is_empty() {
            return Err(Error::Invalid("choose at least one event type".into()));
        }
        let mut events = events.to_vec();
        events.sort_by_key(|e| EventKind::ALL.iter().position(|a| a == e));
        events.dedup();
        let secret = format!("whsec_{}", random(32));
        let now = self.clock.now();
        let id: i64 = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "INSERT INTO webhook_endpoints (agency_id, url, secret, events, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(agency.0)
            .bind(&url)
            .bind(&secret)
            .bind(join(&events))
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        let endpoint = WebhookEndpoint {
            id,
            url,
            events,
            created_at: now,
            disabled_at: None,
        };
        Ok((endpoint, SecretString::from(secret)))
    }

    /// The agency's webhook endpoints, oldest first, removed ones included.
    pub async fn webhooks(&self, agency: AgencyId) -> Result<Vec<WebhookEndpoint>> {
        let rows: Vec<EndpointRow> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, url, events, created_at, disabled_at FROM webhook_endpoints
                 WHERE agency_id = $1 ORDER BY id",
            )
            .bind(agency.0)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(endpoint_from_row).collect()
    }

    /// Removes one of the agency's endpoints: nothing more is sent to it, pending
    /// deliveries included. False when it has no such endpoint still active.
    pub async fn remove_webhook(&self, agency: AgencyId, id: i64) -> Result<bool> {
        let now = self.clock.now();
        let done = with_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE webhook_endpoints SET disabled_at = $1
                 WHERE id = $2 AND agency_id = $3 AND disabled_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .bind(agency.0)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Claims up to `limit` due deliveries for this worker: each claim counts an attempt
    /// and pushes the next try past `lease`, so a worker that dies mid-call leaves the
    /// delivery to be retried after the lease, never lost. On PostgreSQL, workers skip
    /// rows another is claiming.
    pub async fn claim_webhook_deliveries(
        &self,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<DueDelivery>> {
        let now = self.clock.now();
        let lock = match self.engine() {
            Engine::Sqlite => "",
            Engine::Postgres => "FOR UPDATE OF d SKIP LOCKED",
        };
        let claim = format!(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1
             WHERE id IN (
                 SELECT d.id FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id
                 WHERE d.delivered_at IS NULL AND d.failed_at IS NULL
                   AND d.next_attempt_at <= $2 AND e.disabled_at IS NULL
                 ORDER BY d.next_attempt_at, d.id LIMIT $3 {lock})
             RETURNING id"
        );
        type Row = (
            i64,
            i32,
            String,
            String,
            i64,
            String,
            i64,
            String,
            Option<i64>,
            String,
            Option<i64>,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = with_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(&claim)
                .bind(now + lease)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                let row: Row = sqlx::query_as(
                    "SELECT d.id, d.attempts, e.url, e.secret, v.id, v.kind, v.account_id,
                            a.account_ref, v.object_id, v.detail, v.amount, a.currency, v.at
                     FROM webhook_deliveries d
                     JOIN webhook_endpoints e ON e.id = d.endpoint_id
                     JOIN api_events v ON v.id = d.event_id
                     JOIN accounts a ON a.id = v.account_id
                     WHERE d.id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                rows.push(row);
            }
            tx.commit().await?;
            rows
        });
        Ok(rows
            .into_iter()
            .map(|r| DueDelivery {
                id: r.0,
                attempt: r.1,
                url: r.2,
                secret: SecretString::from(r.3),
                event: ApiEvent {
                    id: r.4,
                    kind: r.5,
                    account_id: r.6,
                    account_ref: r.7,
                    object_id: r.8,
                    detail: r.9,
                    amount: r.10,
                    currency: r.11,
                    at: r.12,
                },
            })
            .collect())
    }

    /// Records how attempt `attempt` of a delivery went: a 2xx ends it; anything else
    /// schedules the next try, or gives up after [`MAX_ATTEMPTS`]. The result of an attempt
    /// whose lease ran out (the delivery was claimed again since) is not recorded, so it
    /// cannot overwrite the newer attempt's.
    pub async fn finish_webhook_attempt(
        &self,
        delivery: i64,
        attempt: i32,
        status: Option<u16>,
        error: Option<&str>,
    ) -> Result<()> {
        let now = self.clock.now();
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let status = status.map(i32::from);
        with_db!(&self.db, pool => {
            if ok {
                sqlx::query(
                    "UPDATE webhook_deliveries SET delivered_at = $1, last_status = $2, last_error = NULL
                     WHERE id = $3 AND attempts = $4 AND delivered_at IS NULL AND failed_at IS NULL",
                )
                .bind(now)
                .bind(status)
                .bind(delivery)
                .bind(attempt)
                .execute(pool)
                .await?;
            } else {
                let give_up = attempt >= MAX_ATTEMPTS;
                sqlx::query(
                    "UPDATE webhook_deliveries SET next_attempt_at = $1, failed_at = $2,
                         last_status = $3, last_error = $4
                     WHERE id = $5 AND attempts = $6 AND delivered_at IS NULL AND failed_at IS NULL",
                )
                .bind(now + retry_delay(attempt))
                .bind(give_up.then_some(now))
                .bind(status)
                .bind(error.map(|e| e.chars().take(500).collect::<String>()))
                .bind(delivery)
                .bind(attempt)
                .execute(pool)
                .await?;
            }
        });
        Ok(())
    }

    /// The deliveries to one of the agency's endpoints, newest first.
    pub async fn webhook_deliveries(
        &self,
        agency: AgencyId,
        endpoint: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryState>> {
        Ok(with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT d.id, d.event_id, v.kind, d.attempts, d.delivered_at, d.failed_at, d.last_status
                 FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id
                 JOIN api_events v ON v.id = d.event_id
                 WHERE e.id = $1 AND e.agency_id = $2
                 ORDER BY d.id DESC LIMIT $3",
            )
            .bind(endpoint)
            .bind(agency.0)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Places accounts given as named fields, through the placement importer: each is
    /// checked exactly as a file's row would be. Errors name the item by its position
    /// (0-based) in `line - 2`, as a file's header is line 1.
    pub async fn place_accounts(
        &self,
        agency: AgencyId,
        source: &str,
        items: Vec<PlacementFields>,
    ) -> Result<(ImportReport, Vec<RowError>)> {
        if items.len() > MAX_PLACEMENTS {
            return Err(Error::Invalid(format!(
                "at most {MAX_PLACEMENTS} accounts per request"
            )));
        }
        let mut header: Vec<&str> = REQUIRED_COLUMNS.to_vec();
        header.extend(OPTIONAL_COLUMNS);
        let mut extra: Vec<String> = Vec::new();
        for item in &items {
            for (name, _) in item {
                if !header.contains(&name.as_str()) && !extra.contains(name) {
                    extra.push(name.clone());
                }
            }
        }
        let mut out = csv::Writer::from_writer(Vec::new());
        let width = header.len() + extra.len();
        let names: Vec<&str> = header
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
            .collect();
        out.write_record(&names)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        for item in &items {
            let mut record = vec![""; width];
            for (name, value) in item {
                if let Some(i) = names.iter().position(|n| n == name) {
                    record[i] = value.as_str();
                }
            }
            out.write_record(&record)
                .map_err(|e| Error::Invalid(e.to_string()))?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let mut errors = Vec::new();
        let report = self
            .import_placements(agency, source, std::io::Cursor::new(bytes), |e| {
                errors.push(e.clone())
            })
            .await?;
        Ok((report, errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), s);
        }
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), k);
        }
        assert!("admin".parse::<Scope>().is_err());
    }

    #[test]
    fn retries_back_off_and_stop_growing() {
        assert_eq!(retry_delay(1), Duration::seconds(60));
        assert_eq!(retry_delay(2), Duration::seconds(120));
        assert_eq!(retry_delay(30), Duration::hours(6));
    }

    #[test]
    fn urls_must_be_web_addresses() {
        assert!(check_url("https://agency.example/hooks").is_ok());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("https://").is_err());
        assert!(check_url("https://a b").is_err());
    }
}
