//! Units committed together by the group commit stay independent: one that fails is undone
//! alone, every one that succeeds is whole, durable and has a version of its own.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::collections::BTreeSet;
use std::thread;

use enginedb::{Atomicity, EngineDb, ErrorKind, Value, Write, key, run_atomic_writes};
use enginedb_sqlite::{SqliteConfig, SqliteDb};
use futures::executor::block_on;

#[test]
fn failing_units_in_a_group_are_undone_alone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = block_on(SqliteDb::open(SqliteConfig::file(dir.path().join("group.sqlite3")))).expect("open");
    block_on(db.write(&Write::set(key!["taken"], 1))).expect("seed");
    let threads: Vec<_> = (0..16i64)
        .map(|t| {
            let db = db.clone();
            thread::spawn(move || {
                let mut outcomes = Vec::new();
                for i in 0..50i64 {
                    let mut unit = vec![Write::set(key!["unit", t, i], i), Write::sum(key!["count"], 1)];
                    let doomed = i % 5 == 0;
                    if doomed {
                        unit.push(Write::insert(key!["taken"], 2));
                    }
                    outcomes.push((
                        t,
                        i,
                        doomed,
                        block_on(run_atomic_writes(&db, &unit, Atomicity::Require)),
                    ));
                }
                outcomes
            })
        })
        .collect();
    let mut versions = BTreeSet::new();
    let mut committed = 0;
    for thread in threads {
        for (t, i, doomed, outcome) in thread.join().expect("thread") {
            let stored = block_on(db.get(&key!["unit", t, i])).expect("get");
            match outcome {
                Ok(commit) => {
                    assert!(!doomed, "unit {t}/{i} should have failed");
                    assert!(
                        versions.insert(commit.version),
                        "version {} given twice",
                        commit.version
                    );
                    assert_eq!(stored.map(|e| e.version), Some(commit.version), "unit {t}/{i} is whole");
                    committed += 1;
                }
                Err(error) => {
                    assert!(doomed, "unit {t}/{i} failed: {error}");
                    assert_eq!(error.kind(), ErrorKind::CheckFailed);
                    assert_eq!(stored, None, "failed unit {t}/{i} left nothing");
                }
            }
        }
    }
    let count = block_on(db.get(&key!["count"])).expect("get").map(|e| e.value);
    assert_eq!(count, Some(Value::I64(committed)), "one sum per committed unit");
    assert_eq!(committed, 16 * 40);
}
