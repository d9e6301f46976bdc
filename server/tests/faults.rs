//! The production layout under faults, on a real PostgreSQL server of the test's own: two
//! workers on one database while one of them is killed with SIGKILL again and again, and
//! the database itself crashed and restarted in the middle of a run. Either way every due
//! message is decided once, no text reaches the provider twice, and the workers that
//! survive finish the run on their own.

mod support;

use std::time::{Duration, Instant};

use rand::Rng;
use support::{
    assert_sent_once, fake_twilio, pg_outcome, place_accounts, settle, PrivatePostgres, Received,
};

const ACCOUNTS: u64 = 300;

/// Waits until every account is decided and no message is waiting or being sent.
async fn wait_until_done(db: &str, within: Duration) {
    let pool = sqlx::PgPool::connect(db).await.unwrap();
    let deadline = Instant::now() + within;
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending'))
                  + (SELECT COUNT(*) FROM accounts a WHERE NOT EXISTS
                       (SELECT 1 FROM compliance_decisions d WHERE d.account_id = a.id))",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the workers left {open} account(s) or message(s) unfinished"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn sent(db: &str) -> i64 {
    let pool = sqlx::PgPool::connect(db).await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&pool)
        .await
        .unwrap()
}

/// A private PostgreSQL server with `ACCOUNTS` accounts placed, and a fake Twilio.
struct Setup {
    pg: PrivatePostgres,
    db: String,
    api: String,
    received: Received,
    began: Instant,
}

async fn setup() -> Option<Setup> {
    let pg = PrivatePostgres::start()?;
    let db = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let (api, received) = fake_twilio().await;
    let began = Instant::now();
    place_accounts(&db, &api, began, dir.path(), ACCOUNTS).await;
    Some(Setup {
        pg,
        db,
        api,
        received,
        began,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_one_killed_again_and_again_send_each_message_once() {
    let Some(Setup {
        pg: _pg,
        db,
        api,
        received,
        began,
    }) = setup().await
    else {
        return;
    };

    let mut steady = settle(&db, &api, began).arg("worker").spawn().unwrap();
    let mut rng = rand::rng();
    for _ in 0..6 {
        let mut victim = settle(&db, &api, began).arg("worker").spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..700))).await;
        victim.kill().await.unwrap(); // SIGKILL
    }
    // The steady worker finishes alone, taking over what the victims had claimed once
    // their leases run out.
    wait_until_done(&db, Duration::from_secs(90)).await;
    assert!(
        steady.try_wait().unwrap().is_none(),
        "the steady worker stopped"
    );
    steady.kill().await.unwrap();

    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    assert_sent_once(&pg_outcome(&pool).await, &received, ACCOUNTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_crashed_mid_run_the_workers_resume_and_nothing_is_lost_or_doubled() {
    let Some(Setup {
        pg,
        db,
        api,
        received,
        began,
    }) = setup().await
    else {
        return;
    };

    // 20 texts a second per worker, so most of the run is still ahead at the crash.
    let worker = || {
        settle(&db, &api, began)
            .env("SETTLE_SMS_PER_SECOND", "20")
            .arg("worker")
            .spawn()
            .unwrap()
    };
    let mut workers = [worker(), worker()];
    // Once the run is under way, the database goes down hard for a second.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent(&db).await < 20 {
        assert!(Instant::now() < deadline, "the run never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pg = tokio::task::spawn_blocking(move || {
        pg.crash_and_restart(Duration::from_secs(1));
        pg
    })
    .await
    .unwrap();
    let at_restart = received.lock().unwrap().len();
    assert!(
        (at_restart as u64) < ACCOUNTS / 2,
        "the run was nearly over before the crash ({at_restart} sent): nothing left to resume"
    );

    wait_until_done(&db, Duration::from_secs(90)).await;
    for w in &mut workers {
        assert!(w.try_wait().unwrap().is_none(), "a worker stopped");
        w.kill().await.unwrap();
    }
    let after = received.lock().unwrap().len();
    assert!(after > at_restart, "nothing was sent after the restart");

    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    assert_sent_once(&pg_outcome(&pool).await, &received, ACCOUNTS);
    drop(pg);
}
