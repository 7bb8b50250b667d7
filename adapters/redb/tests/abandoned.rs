//! An abandoned interactive transaction cannot wedge the database.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use enginedb::port::EngineDb;
use enginedb::{ErrorKind, Write, key};
use enginedb_redb::{RedbConfig, RedbDb};
use futures::executor::block_on;

fn open(idle: Duration) -> RedbDb {
    let mut config = RedbConfig::memory();
    config.transaction_idle_timeout = idle;
    block_on(RedbDb::open(config)).expect("open")
}

#[test]
fn an_idle_transaction_is_aborted_and_frees_the_writer() {
    let db = open(Duration::from_millis(100));
    block_on(async {
        let transactions = db.transactions().expect("transactions");
        let mut held = transactions.begin().await.expect("begin");
        held.apply(&[Write::set(key!["held"], 1)]).await.expect("apply");
        // The holder goes quiet but keeps its handle: after the idle timeout the writer is free.
        let written = db
            .write(&Write::set(key!["after"], 2))
            .await
            .expect("a plain write gets through");
        assert!(written.0 > 0);
        assert_eq!(
            db.get(&key!["held"]).await.expect("get"),
            None,
            "the idle transaction was aborted"
        );
        let late = held
            .commit()
            .await
            .expect_err("the abandoned transaction cannot commit");
        assert_eq!(late.kind(), ErrorKind::Closed);
    });
}

#[test]
fn a_dropped_transaction_frees_the_writer_at_once() {
    let db = open(Duration::from_secs(3600));
    block_on(async {
        let transactions = db.transactions().expect("transactions");
        let mut tx = transactions.begin().await.expect("begin");
        tx.apply(&[Write::set(key!["dropped"], 1)]).await.expect("apply");
        drop(tx);
        db.write(&Write::set(key!["after"], 2))
            .await
            .expect("the writer is free");
        assert_eq!(db.get(&key!["dropped"]).await.expect("get"), None);
    });
}
