//! `Db::close` shuts redb down cleanly: the next open needs no repair.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use enginedb::{ErrorKind, key};
use enginedb_redb::RedbDb;
use futures::executor::block_on;

#[test]
fn a_closed_store_needs_no_repair_and_refuses_later_calls() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("closed.redb");
    block_on(async {
        let db = RedbDb::open_db(&format!("redb://{}", path.display()))
            .await
            .expect("open");
        db.set(key!["a"], 1).await.expect("write");
        assert!(db.get(&key!["a"]).await.expect("read").is_some());
        db.close().await.expect("close");
        assert_eq!(db.get(&key!["a"]).await.unwrap_err().kind(), ErrorKind::Closed);
    });
    let repaired = Arc::new(AtomicBool::new(false));
    let flag = repaired.clone();
    let raw = enginedb_redb::redb::Database::builder()
        .set_repair_callback(move |_| flag.store(true, Ordering::SeqCst))
        .open(&path)
        .expect("the file is free once closed");
    assert!(!repaired.load(Ordering::SeqCst), "the closed file needed a repair");
    drop(raw);
}
