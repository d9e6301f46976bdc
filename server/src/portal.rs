//! The portal's plain HTTP routes around the Leptos pages: short links (`/l/<token>`), the
//! language switch (`/lang/<tag>?next=/path`), the session layer, and the same-origin check
//! on every form post.

use std::net::IpAddr;

use accounts::portal::{LinkStatus, LinkToken};
use accounts::{Accounts, PoolRef};
use app::i18n::Lang;
use app::session_keys;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tower_sessions::cookie::time::Duration;
use tower_sessions::cookie::SameSite;
use tower_sessions::ExpiredDeletion;
use tower_sessions::{CachingSessionStore, Expiry, Session, SessionManagerLayer};
use tower_sessions_moka_store::MokaStore;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Minutes of inactivity after which a portal session ends.
pub const IDLE_MINUTES: i64 = 15;

const CLEANUP: std::time::Duration = std::time::Duration::from_secs(300);

/// Sessions kept in memory in front of the SQLite file.
const CACHED_SESSIONS: u64 = 100_000;

/// Minutes of inactivity after which an agency user's session ends.
pub const AGENCY_IDLE_MINUTES: i64 = 30;

/// The session store over the accounts database, so every server process shares sessions.
pub async fn session_store(accounts: &Accounts) -> anyhow::Result<SessionStore> {
    Ok(match accounts.pool() {
        PoolRef::Sqlite(p) => {
            let s = SqliteStore::new(p.clone());
            s.migrate().await?;
            tokio::spawn(s.clone().continuously_delete_expired(CLEANUP));
            // SQLite is the one-process engine, so a write-through cache in this process is
            // never stale; loading the session was most of the account page's time.
            // PostgreSQL serves several processes and always reads the database.
            let cache = MokaStore::new(Some(CACHED_SESSIONS));
            SessionStore::Sqlite(CachingSessionStore::new(cache, s))
        }
        PoolRef::Postgres(p) => {
            let s = PostgresStore::new(p.clone());
            s.migrate().await?;
            tokio::spawn(s.clone().continuously_delete_expired(CLEANUP));
            SessionStore::Postgres(s)
        }
    })
}

/// The debtors' session cookie (`settle_session`).
pub fn portal_sessions(store: SessionStore, secure: bool) -> SessionManagerLayer<SessionStore> {
    SessionManagerLayer::new(store)
        .with_name("settle_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(Duration::minutes(IDLE_MINUTES)))
}

/// The agency users' session cookie (`settle_agency`, sent only under `/agency`): a
/// separate session, so a debtor's session never reaches the console and signing out of one
/// leaves the other alone.
pub fn agency_sessions(store: SessionStore, secure: bool) -> SessionManagerLayer<SessionStore> {
    SessionManagerLayer::new(store)
        .with_name("settle_agency")
        .with_path("/agency")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(Duration::minutes(AGENCY_IDLE_MINUTES)))
}

/// The session store of whichever engine the backend runs on.
#[derive(Debug, Clone)]
pub enum SessionStore {
    /// Sessions in the SQLite file, read through an in-process cache.
    Sqlite(CachingSessionStore<MokaStore, SqliteStore>),
    /// Sessions in PostgreSQL.
    Postgres(PostgresStore),
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for SessionStore {
    async fn create(
        &self,
        record: &mut tower_sessions::session::Record,
    ) -> tower_sessions::session_store::Result<()> {
        match self {
            SessionStore::Sqlite(s) => s.create(record).await,
            SessionStore::Postgres(s) => s.create(record).await,
        }
    }
    async fn save(
        &self,
        record: &tower_sessions::session::Record,
    ) -> tower_sessions::session_store::Result<()> {
        match self {
            SessionStore::Sqlite(s) => s.save(record).await,
            SessionStore::Postgres(s) => s.save(record).await,
        }
    }
    async fn load(
        &self,
        id: &tower_sessions::session::Id,
    ) -> tower_sessions::session_store::Result<Option<tower_sessions::session::Record>> {
        match self {
            SessionStore::Sqlite(s) => s.load(id).await,
            SessionStore::Postgres(s) => s.load(id).await,
        }
    }
    async fn delete(
        &self,
        id: &tower_sessions::session::Id,
    ) -> tower_sessions::session_store::Result<()> {
        match self {
            SessionStore::Sqlite(s) => s.delete(id).await,
            SessionStore::Postgres(s) => s.delete(id).await,
        }
    }
}

/// The link and language routes.
pub fn router() -> Router<Accounts> {
    Router::new()
        .route("/l/{token}", get(open_link))
        .route("/lang/{tag}", get(switch_language))
}

/// `/l/<token>`: remembers the linked account in the session (not verified) and goes to the
/// identity check; a bad link goes to the start page with a notice.
async fn open_link(
    State(accounts): State<Accounts>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Redirect, StatusCode> {
    let status = match LinkToken::parse(&token) {
        Some(t) => accounts.resolve_link(&t).await.map_err(|e| {
            tracing::error!("resolving a link: {e}");
            StatusCode::SERVICE_UNAVAILABLE
        })?,
        None => LinkStatus::Unknown,
    };
    let LinkStatus::Valid(account) = status else {
        return Ok(Redirect::to("/?link=invalid"));
    };
    let fail = |e: tower_sessions::session::Error| {
        tracing::error!("session: {e}");
        StatusCode::SERVICE_UNAVAILABLE
    };
    session.cycle_id().await.map_err(fail)?;
    session
        .remove::<bool>(session_keys::VERIFIED)
        .await
        .map_err(fail)?;
    session
        .insert(session_keys::ACCOUNT, account.0)
        .await
        .map_err(fail)?;
    let next = match LinkToken::parse(&token) {
        Some(t) => accounts.link_next_path(&t).await.map_err(|e| {
            tracing::error!("reading a link: {e}");
            StatusCode::SERVICE_UNAVAILABLE
        })?,
        None => None,
    };
    match next {
        Some(path) => session
            .insert(session_keys::NEXT, path)
            .await
            .map_err(fail)?,
        None => {
            session
                .remove::<String>(session_keys::NEXT)
                .await
                .map_err(fail)?;
        }
    }
    Ok(Redirect::to("/verify"))
}

#[derive(serde::Deserialize)]
struct Back {
    next: Option<String>,
}

/// `/lang/<tag>?next=/path`: sets the language cookie and goes back. Only local paths are
/// accepted as `next`, so the switch cannot be used to send someone elsewhere.
async fn switch_language(Path(tag): Path<String>, Query(q): Query<Back>) -> Response {
    let lang = Lang::from_tag(&tag).unwrap_or(Lang::En);
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".to_string());
    ([(header::SET_COOKIE, lang.cookie())], Redirect::to(&next)).into_response()
}

/// The account of a session that passed the identity check, if any.
pub async fn verified_account(session: &Session) -> Result<Option<domain::AccountId>, StatusCode> {
    let fail = |e: tower_sessions::session::Error| {
        tracing::error!("session: {e}");
        StatusCode::SERVICE_UNAVAILABLE
    };
    let verified = session
        .get::<bool>(session_keys::VERIFIED)
        .await
        .map_err(fail)?
        == Some(true);
    let account = session
        .get::<i64>(session_keys::ACCOUNT)
        .await
        .map_err(fail)?;
    Ok(account.filter(|_| verified).map(domain::AccountId))
}

/// Refuses a state-changing request whose `Origin` names another site: with the SameSite
/// session cookie this keeps server functions safe from cross-site form posts.
pub async fn same_origin(headers: HeaderMap, request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        if let (Some(origin), Some(host)) = (origin, host) {
            let origin_host = origin.split("://").nth(1).unwrap_or("");
            if origin_host != host {
                return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
            }
        }
    }
    next.run(request).await
}

/// The reverse proxies whose `X-Forwarded-For` is believed (the `trusted_proxies` setting).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub std::sync::Arc<[ipnet::IpNet]>);

/// Puts the client's address ([`app::ClientIp`]) in the request's extensions, for the
/// per-client limits: the connection's peer, or, when the peer is a trusted proxy, the
/// address the proxies reported (see [`client_ip`]).
pub async fn client_address(
    State(trusted): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = client_ip(peer, &forwarded, &trusted.0);
        request.extensions_mut().insert(app::ClientIp(ip));
    }
    next.run(request).await
}

/// The client's address from the connection's `peer` and the `X-Forwarded-For` header
/// values, in order. Each proxy appends the address it was reached from, so the list is read
/// from the right: trusted proxies are skipped and the first other address is the client.
/// Anything left of it was written by the client and could be forged, so it is ignored. An
/// entry that is not an address ends the walk at the last trusted hop.
pub fn client_ip(peer: IpAddr, forwarded: &[&str], trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    // A server listening on `[::]` sees IPv4 peers as `::ffff:a.b.c.d`.
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded.iter().rev().flat_map(|v| v.rsplit(',')) {
        let entry = entry.trim();
        // Some proxies write the client's port too: `1.2.3.4:5`, `[2001:db8::1]:443`.
        let parsed = entry
            .parse::<IpAddr>()
            .or_else(|_| entry.parse::<std::net::SocketAddr>().map(|a| a.ip()));
        match parsed.map(|ip| ip.to_canonical()) {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod client_ip_tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // Straight from the internet: the header is the client's own words.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the address it appended.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
        // A forged entry on the left is ignored; two proxies are skipped.
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &["1.2.3.4, 198.51.100.1", "10.0.0.7"],
                &trusted
            ),
            ip("198.51.100.1")
        );
        // Nothing usable: the last trusted hop stands for the client.
        assert_eq!(client_ip(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["10.0.0.5, junk"], &trusted),
            ip("10.0.0.2")
        );
        // No trusted proxies: always the peer.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["198.51.100.1"], &[]),
            ip("10.0.0.2")
        );
        // Ports are dropped, and a mapped IPv4 peer is its IPv4 address.
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.2"), &["198.51.100.1:5123"], &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["[2001:db8::1]:443"], &trusted),
            ip("2001:db8::1")
        );
        // IPv6 clients behind an IPv4 proxy.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["2001:db8::1"], &trusted),
            ip("2001:db8::1")
        );
    }
}
