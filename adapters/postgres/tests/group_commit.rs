//! Group commit under load, from one process and from two: units that queue while a commit is
//! in flight share the next one, yet each keeps its own version and fails alone, and versions
//! follow commit order across processes.
//!
//! A test binary of its own (`harness = false`): run as `--writer URL NAMESPACE PROCESS` it is
//! one of the two writing processes.

#![allow(clippy::expect_used, clippy::print_stdout, clippy::panic)] // a test runner of its own

mod common;

use std::collections::BTreeSet;
use std::process::{Command, ExitCode};

use enginedb::{Db, Error, ErrorKind, Selector, Version, key};
use enginedb_postgres::{PgConfig, PgDb};
use futures::future::join_all;

/// Concurrent writers per process.
const WRITERS: i64 = 16;
/// Units each writer commits.
const UNITS: i64 = 25;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, url, namespace, process, ..] = args.as_slice()
        && flag == "--writer"
    {
        common::block_on(writer(url, namespace, process));
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--list") {
        println!("failing_units_fail_alone_in_a_group: test");
        println!("two_processes_keep_commit_order: test");
        println!("callers_that_stop_polling_or_give_up_hold_up_no_one: test");
        return ExitCode::SUCCESS;
    }
    let url = common::PgServer::shared().expect("a PostgreSQL server");
    failing_units_fail_alone_in_a_group(url);
    two_processes_keep_commit_order(url);
    callers_that_stop_polling_or_give_up_hold_up_no_one(url);
    println!("3 passed, 0 failed");
    ExitCode::SUCCESS
}

async fn open(url: &str, namespace: &str, connections: u32) -> (PgDb, Db) {
    let mut config = PgConfig::new(url);
    config.namespace = Some(namespace.to_owned());
    config.max_connections = connections;
    let store = PgDb::open(config).await.expect("open");
    (store.clone(), Db::from(store))
}

/// 64 concurrent units, every other one failing its check: the failing ones fail with
/// `CheckFailed` and write nothing, the others commit, each with a version of its own — and
/// groups formed (fewer statements than units).
fn failing_units_fail_alone_in_a_group(url: &str) {
    common::block_on(async {
        let (store, db) = open(url, &common::unique_namespace(), 8).await;
        db.set(key!["taken"], "yes").await.expect("seed");
        let sent = store.statements_sent();
        let outcomes = join_all((0..64_i64).map(|i| {
            let db = db.clone();
            async move {
                let unit = db.atomic().set(key!["unit", i], i).sum(key!["committed"], 1);
                let unit = if i % 2 == 0 {
                    unit.check_absent(key!["taken"])
                } else {
                    unit
                };
                unit.commit().await
            }
        }))
        .await;
        let mut versions = BTreeSet::new();
        for (i, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                Ok(commit) => {
                    assert!(i % 2 == 1, "unit {i} should have failed its check");
                    assert!(versions.insert(commit.version), "unit {i}: a version of its own");
                }
                Err(Error::CheckFailed { index: 2, .. }) => assert!(i % 2 == 0, "unit {i} failed"),
                Err(error) => panic!("unit {i}: {error}"),
            }
        }
        assert_eq!(versions.len(), 32);
        let committed = db.get(&key!["committed"]).await.expect("get").expect("counter");
        assert_eq!(committed.value.as_i64(), Some(32), "every committed unit, once");
        let written = db.list(Selector::prefix(key!["unit"])).collect().await.expect("list");
        let odd: Vec<i64> = written.iter().filter_map(|e| e.value.as_i64()).collect();
        assert_eq!(
            odd,
            (0..64).filter(|i| i % 2 == 1).collect::<Vec<_>>(),
            "failed units wrote nothing"
        );
        let statements = store.statements_sent() - sent;
        assert!(
            statements < 64,
            "units shared commits: {statements} statements for 64 units"
        );
        println!("failing_units_fail_alone_in_a_group: 64 units in {statements} statements");
        db.close().await.expect("close");
    });
}

/// Two processes of 16 writers each extend one chain: each unit reads the chain's head, then
/// commits on condition that the head is unchanged, writing the next link (holding the version
/// it read) and a counter. Whatever the groups, every link holds the version of the link before
/// it, versions grow along the chain, and no unit is lost or merged with another.
fn two_processes_keep_commit_order(url: &str) {
    let namespace = common::unique_namespace();
    let exe = std::env::current_exe().expect("this test binary");
    let children: Vec<_> = (0..2)
        .map(|process| {
            Command::new(&exe)
                .args(["--writer", url, &namespace, &process.to_string()])
                .spawn()
                .expect("start a writer process")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait for a writer").success(), "a writer failed");
    }
    common::block_on(async {
        let (_, db) = open(url, &namespace, 2).await;
        let links = db.list(Selector::prefix(key!["link"])).collect().await.expect("links");
        let total = 2 * WRITERS * UNITS;
        assert_eq!(links.len() as i64, total, "one link per unit");
        let mut previous = Version(0);
        for (n, link) in links.iter().enumerate() {
            assert_eq!(link.key, key!["link", n as i64 + 1]);
            let read = link.value.as_i64().expect("a version") as u64;
            assert_eq!(
                read,
                previous.0,
                "link {} holds the version of the link before it",
                n + 1
            );
            assert!(link.version > previous, "versions grow along the chain");
            previous = link.version;
        }
        let head = db.get(&key!["head"]).await.expect("get").expect("head");
        assert_eq!((head.value.as_i64(), head.version), (Some(total), previous));
        println!("two_processes_keep_commit_order: {total} units from 2 processes in commit order");
        db.close().await.expect("close");
    });
}

/// Units whose callers poll them once and then neither poll nor drop them hold up no later
/// unit; a unit whose caller gives up while it waits for a commit slot is never written.
fn callers_that_stop_polling_or_give_up_hold_up_no_one(url: &str) {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    common::block_on(async {
        let namespace = common::unique_namespace();
        let (_, db) = open(url, &namespace, 8).await;
        let mut waker = Context::from_waker(Waker::noop());
        let mut first = pin!(db.set(key!["a"], 1));
        let mut second = pin!(db.set(key!["b"], 2));
        for unit in [first.as_mut().poll(&mut waker), second.as_mut().poll(&mut waker)] {
            assert!(matches!(unit, Poll::Pending), "still on its way");
        }
        let third = tokio::time::timeout(Duration::from_secs(10), db.set(key!["c"], 3)).await;
        assert!(matches!(third, Ok(Ok(_))), "not held up by the idle callers: {third:?}");
        first.await.expect("an idle caller's unit, once polled again");
        second.await.expect("an idle caller's unit, once polled again");

        // Both commit slots held: the server's commit lock is taken elsewhere.
        let raw = sqlx::PgPool::connect(url).await.expect("raw pool");
        let mut holder = raw.acquire().await.expect("a connection");
        sqlx::query("SELECT pg_advisory_lock(7308892947790259298)")
            .execute(&mut *holder)
            .await
            .expect("take the commit lock");
        // One unit per commit in flight (a lone committer's, then one per committing task), each
        // sent before the next is made.
        let mut slots = Vec::new();
        for i in 0..3 {
            let db = db.clone();
            slots.push(tokio::spawn(async move { db.set(key!["slot", i], i).await }));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let given_up = tokio::time::timeout(Duration::from_millis(200), db.set(key!["given", "up"], 1)).await;
        assert!(given_up.is_err(), "it waited for a slot: {given_up:?}");
        sqlx::query("SELECT pg_advisory_unlock(7308892947790259298)")
            .execute(&mut *holder)
            .await
            .expect("release the commit lock");
        for slot in slots {
            slot.await.expect("a slot's task").expect("its unit");
        }
        // Closing waits for every statement under way: whatever was sent has landed.
        db.close().await.expect("close");
        let (_, db) = open(url, &namespace, 2).await;
        assert!(
            db.get(&key!["given", "up"]).await.expect("get").is_none(),
            "a unit given up before it was sent is never written"
        );
        assert!(db.get(&key!["slot", 1]).await.expect("get").is_some());
        println!("callers_that_stop_polling_or_give_up_hold_up_no_one: passed");
        db.close().await.expect("close");
    });
}

/// One writing process: 16 writers extending the chain, each until it has committed 25 units.
async fn writer(url: &str, namespace: &str, process: &str) {
    let (_, db) = open(url, namespace, 8).await;
    let writers = (0..WRITERS).map(|w| {
        let db = db.clone();
        async move {
            let mut committed = 0;
            while committed < UNITS {
                let head = db.get(&key!["head"]).await.expect("read the head");
                let (length, version) = head.map_or((0, Version(0)), |e| (e.value.as_i64().unwrap_or(-1), e.version));
                let unit = db.atomic();
                let unit = if version == Version(0) {
                    unit.check_absent(key!["head"])
                } else {
                    unit.check(key!["head"], version)
                };
                let unit = unit
                    .set(key!["head"], length + 1)
                    .set(key!["link", length + 1], version.0 as i64)
                    .set(key!["by", process, w, committed], length + 1);
                match unit.commit().await {
                    Ok(_) => committed += 1,
                    Err(error) if error.kind() == ErrorKind::CheckFailed => {}
                    Err(error) => panic!("process {process} writer {w}: {error}"),
                }
            }
        }
    });
    join_all(writers).await;
    db.close().await.expect("close");
}
