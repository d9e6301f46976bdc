//! The worker killed with SIGKILL at random points of a scheduling and sending run: after a
//! restart no text went out twice, and every due message was sent or marked for review.

mod support;

use std::time::Duration;

use rand::Rng;
use support::{assert_sent_once, fake_twilio, ok, place_accounts, settle, sqlite_outcome};

const ACCOUNTS: u64 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_at_random_points_never_sends_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("settle.db").display());
    let (api, received) = fake_twilio().await;
    let began = std::time::Instant::now();
    place_accounts(&db, &api, began, dir.path(), ACCOUNTS).await;

    let mut rng = rand::rng();
    for _ in 0..8 {
        let mut worker = settle(&db, &api, began).arg("worker").spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(rng.random_range(60..450))).await;
        worker.kill().await.unwrap(); // SIGKILL
    }
    // Past the lease, a restarted worker finishes the run.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..2 {
        ok(settle(&db, &api, began)
            .args(["messages", "run", "--no-limit"])
            .output()
            .await
            .unwrap());
    }

    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    assert_sent_once(&sqlite_outcome(&pool).await, &received, ACCOUNTS);
}
