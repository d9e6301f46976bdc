//! Two `settle serve` processes on one PostgreSQL database, as behind a load balancer: a
//! debtor's session made on one server is good on the other, signing out on one ends it
//! on both, and together they take 256 connections at once without an error.

mod support;

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use support::{free_port, ok, place_accounts, PrivatePostgres};
use tokio::process::Command;

const CONNECTIONS: usize = 256;
const LOAD_FOR: Duration = Duration::from_secs(10);

fn serve(db: &str, port: u16, dir: &std::path::Path) -> tokio::process::Child {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("serve")
        .env("SETTLE_DATABASE_URL", db)
        .env("SETTLE_LISTEN", format!("127.0.0.1:{port}"))
        .env("SETTLE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("SETTLE_SITE_ROOT", dir)
        .env("SETTLE_DEMO_DATA", "false")
        .env("SETTLE_SERVE_RUNS_WORKERS", "false")
        // As behind a reverse proxy on the same machine; one identity check a minute per
        // client, bursts of three.
        .env("SETTLE_TRUSTED_PROXIES", "127.0.0.1")
        .env("SETTLE_VERIFY_PER_MINUTE", "1")
        .env("SETTLE_LOG_LEVEL", "error")
        .env_remove("SETTLE_CONFIG")
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The `settle_session` cookie a response sets, if it sets one.
fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let v = v.to_str().ok()?;
        v.starts_with("settle_session=")
            .then(|| v.split(';').next().unwrap().to_string())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_sessions_and_take_256_connections_without_an_error() {
    let Some(pg) = PrivatePostgres::start() else {
        return;
    };
    let db = pg.url();
    let dir = tempfile::tempdir().unwrap();
    place_accounts(&db, "http://127.0.0.1:9", Instant::now(), dir.path(), 20).await;
    let (a_port, b_port) = (free_port(), free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{a_port}"),
        format!("http://127.0.0.1:{b_port}"),
    );
    let mut servers = [
        serve(&db, a_port, dir.path()),
        serve(&db, b_port, dir.path()),
    ];
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    for base in [&a, &b] {
        let mut ready = false;
        for _ in 0..300 {
            if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
                ready = r.status() == StatusCode::OK;
                if ready {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "{base} never became ready");
    }

    // The debtor's link opens on server A...
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let (dob, zip): (chrono::NaiveDate, String) = sqlx::query_as(
        "SELECT date_of_birth, postal_code FROM accounts WHERE account_ref = 'GEN-00000000'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let link = ok(support::settle(&db, "http://127.0.0.1:9", Instant::now())
        .env_remove("SETTLE_CLOCK_START")
        .env("SETTLE_PUBLIC_URL", &a)
        .args(["link", "--account", "GEN-00000000"])
        .output()
        .await
        .unwrap());
    let link = String::from_utf8(link.stdout).unwrap();
    let link = link.split_whitespace().nth(1).unwrap().to_string();
    let opened = client.get(&link).send().await.unwrap();
    let mut cookie = session_cookie(&opened).expect("the link starts a session");
    let verify = opened.headers()[LOCATION].to_str().unwrap().to_string();
    let action = form_action(&client, &format!("{a}{verify}"), &cookie, "/api/verify").await;

    // Behind the trusted proxy each client has its own limit: the fourth try from one
    // client within the minute is turned away, another client's is not.
    let limited = |client_address: &'static str| {
        let (client, cookie, a, action) =
            (client.clone(), cookie.clone(), a.clone(), action.clone());
        async move {
            let posted = client
                .post(format!("{a}{action}"))
                .header(COOKIE, &cookie)
                .header(ACCEPT, "text/html")
                .header(ORIGIN, &a)
                .header("x-forwarded-for", client_address)
                .form(&[("dob", "not a date"), ("zip", "00000")])
                .send()
                .await
                .unwrap();
            assert!(posted.status().is_redirection(), "{}", posted.status());
            let page = client
                .get(format!("{a}/verify"))
                .header(COOKIE, &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            page.contains("Too many attempts from this connection")
        }
    };
    for _ in 0..3 {
        assert!(!limited("198.51.100.1").await);
    }
    assert!(
        limited("198.51.100.1").await,
        "the fourth try was not limited"
    );
    assert!(!limited("198.51.100.2").await, "another client was limited");

    // ...the identity answers go to server B...
    let answered = client
        .post(format!("{b}{action}"))
        .header(COOKIE, &cookie)
        .header(ACCEPT, "text/html")
        .header(ORIGIN, &b)
        .form(&[("dob", dob.to_string()), ("zip", zip)])
        .send()
        .await
        .unwrap();
    assert!(answered.status().is_redirection(), "{}", answered.status());
    if let Some(c) = session_cookie(&answered) {
        cookie = c; // a new session id once verified
    }

    // ...and the account page answers on both.
    for base in [&a, &b] {
        let page = client
            .get(format!("{base}/account"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{base}/account");
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("data-testid=\"balance\""));
    }

    // 256 connections at once, half on each server, for a while: every answer is the
    // account page.
    let stop = Instant::now() + LOAD_FOR;
    let mut load = tokio::task::JoinSet::new();
    for i in 0..CONNECTIONS {
        let url = format!("{}/account", if i % 2 == 0 { &a } else { &b });
        let cookie = cookie.clone();
        load.spawn(async move {
            // One client per task: its own connection, kept alive.
            let client = reqwest::Client::builder()
                .redirect(Policy::none())
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut done = 0u64;
            while Instant::now() < stop {
                let r = client.get(&url).header(COOKIE, &cookie).send().await;
                match r {
                    Ok(r) if r.status() == StatusCode::OK => {
                        r.bytes().await.unwrap();
                        done += 1;
                    }
                    Ok(r) => panic!("{url}: {}", r.status()),
                    Err(e) => panic!("{url}: {e}"),
                }
            }
            done
        });
    }
    let mut total = 0;
    while let Some(done) = load.join_next().await {
        total += done.unwrap();
    }
    eprintln!(
        "{CONNECTIONS} connections, {total} account pages in {}s, no errors",
        LOAD_FOR.as_secs()
    );
    assert!(total >= CONNECTIONS as u64, "{total} requests");

    // Signing out on A ends the session on B too.
    let sign_out = form_action(&client, &format!("{a}/account"), &cookie, "/api/sign_out").await;
    let out = client
        .post(format!("{a}{sign_out}"))
        .header(COOKIE, &cookie)
        .header(ACCEPT, "text/html")
        .header(ORIGIN, &a)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert!(out.status().is_redirection(), "{}", out.status());
    let after = client
        .get(format!("{b}/account"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let status = after.status();
    assert!(
        status == StatusCode::OK || status.is_redirection(),
        "B answered {status} after the sign-out"
    );
    assert!(
        !after
            .text()
            .await
            .unwrap()
            .contains("data-testid=\"balance\""),
        "the account page still answers on B after signing out on A"
    );

    for s in &mut servers {
        assert!(s.try_wait().unwrap().is_none(), "a server stopped");
        s.kill().await.unwrap();
    }
    drop(pg);
}

/// The `action` of the form on the page at `url` (fetched with the session) that posts to
/// a server function whose path starts with `prefix`.
async fn form_action(client: &reqwest::Client, url: &str, cookie: &str, prefix: &str) -> String {
    let page = client
        .get(url)
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    page.split("action=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .find(|a| a.starts_with(prefix))
        .unwrap_or_else(|| panic!("no form posting to {prefix} on {url}:\n{page}"))
        .to_string()
}
