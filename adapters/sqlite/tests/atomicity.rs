//! Writes around an open transaction, and failures injected at every statement of a unit.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use enginedb::port::{EncodedWrite, EngineDb};
use enginedb::testing::{Mask, Masked};
use enginedb::{Atomicity, Db, ErrorKind, Key, Selector, Value, Write, key, run_atomic_writes};
use enginedb_sqlite::{SqliteConfig, SqliteDb};
use futures::executor::block_on;

fn open() -> SqliteDb {
    block_on(SqliteDb::open(SqliteConfig::memory())).expect("open")
}

fn contents(db: &SqliteDb) -> Vec<(Key, Value)> {
    block_on(enginedb_conformance::contents(&Db::from(db.clone()), &Key::default())).expect("list")
}

/// A plain write issued from another thread while a transaction is open and waiting is queued
/// behind it: it neither joins the transaction nor is rolled back with it, and once the
/// transaction ends it commits on its own.
#[test]
fn plain_write_waits_for_an_open_transaction_and_never_joins_it() {
    for commit in [false, true] {
        let db = open();
        let (opened, wait_for_open) = mpsc::channel();
        let holder = {
            let db = db.clone();
            thread::spawn(move || {
                block_on(async {
                    let transactions = db.transactions().expect("transactions");
                    let mut tx = transactions.begin().await?;
                    tx.apply(&[Write::set(key!["inside"], 1)]).await?;
                    opened.send(()).expect("signal");
                    thread::sleep(Duration::from_millis(200));
                    let ended = Instant::now();
                    if commit {
                        tx.commit().await.map(Some)?;
                    } else {
                        tx.rollback().await?;
                    }
                    Ok::<_, enginedb::Error>(ended)
                })
            })
        };
        wait_for_open.recv().expect("transaction opened");
        let written = block_on(db.write(&Write::set(key!["outside"], 2))).expect("plain write");
        let finished = Instant::now();
        let ended = holder.join().expect("thread").expect("transaction");
        assert!(finished >= ended, "the plain write waited for the transaction to end");
        let inside = block_on(db.get(&key!["inside"])).expect("get");
        let outside = block_on(db.get(&key!["outside"]))
            .expect("get")
            .expect("plain write kept");
        assert_eq!(outside.version, written);
        match (commit, inside) {
            (false, inside) => assert_eq!(inside, None, "rolled back without the plain write"),
            (true, Some(inside)) => assert!(inside.version < written, "the plain write committed after, on its own"),
            (true, None) => panic!("the committed transaction's write is missing"),
        }
    }
}

/// Every statement position of a multi-op unit, failed in turn, in a transaction and in a
/// batch: nothing of the unit is left behind, the error surfaces, and with no fault the same
/// unit commits (so every position was really inside the unit).
#[test]
fn a_failure_at_any_statement_leaves_nothing_behind() {
    let seed = [
        Write::set(key!["e"], "old"),
        Write::set(key!["f", 1], 1),
        Write::set(key!["f", 2], 2),
    ];
    let unit = [
        Write::set(key!["a"], "new"),
        Write::insert(key!["b"], 2),
        Write::sum(key!["c"], 3),
        Write::check(key!["d"], None),
        Write::delete(key!["e"]),
        Write::delete_range(Selector::prefix(key!["f"])),
        Write::set(key!["g"], vec![0u8; 1000]),
    ];
    let encoded = EncodedWrite::unit(&unit).expect("encode");
    let statements = 1 + enginedb_sql::sqlite::plan_unit("", &encoded, None).len();
    for mask in [Mask::Native, Mask::BatchOnly] {
        for k in 1..=statements + 1 {
            let db = open();
            block_on(run_atomic_writes(&db, &seed, Atomicity::Require)).expect("seed");
            let before = contents(&db);
            db.inject_statement_fault(k);
            let result = block_on(run_atomic_writes(
                &Masked::new(db.clone(), mask),
                &unit,
                Atomicity::Require,
            ));
            if k <= statements {
                let error = result.expect_err("the injected fault must surface");
                assert_eq!(error.kind(), ErrorKind::Backend, "{mask:?} statement {k}: {error}");
                assert_eq!(contents(&db), before, "{mask:?} statement {k}: nothing left behind");
            } else {
                result.expect("with no fault the unit commits");
                db.inject_statement_fault(0);
                assert_eq!(contents(&db).len(), 4, "a, b, c, g and nothing of e or f");
            }
        }
        eprintln!("{mask:?}: a fault at each of {statements} statements left nothing behind");
    }
}

/// Random units (runs of every op kind, on few keys, often failing) have the outcomes and
/// leave the data `MemoryDb` does: the folded multi-row statements behave as ops one by one.
#[test]
fn random_units_match_the_reference() {
    let dir = tempfile::tempdir().expect("temporary directory");
    futures::executor::block_on(async {
        let url = format!("sqlite://{}/differential.sqlite3", dir.path().display());
        let db = enginedb_sqlite::SqliteDb::open_db(&url).await.expect("open");
        enginedb_testkit::differential::units_match_memory(&db, 400).await;
        db.close().await.expect("close");
    });
}
