//! `Db::close` checkpoints the WAL: the database file alone holds every commit.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb::{ErrorKind, key};
use enginedb_sqlite::SqliteDb;
use futures::executor::block_on;

#[test]
fn a_closed_store_has_an_empty_wal_and_refuses_later_calls() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("closed.sqlite3");
    let wal = dir.path().join("closed.sqlite3-wal");
    let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    block_on(async {
        let db = SqliteDb::open_db(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        db.set(key!["a"], "kept").await.expect("write");
        assert!(wal_len() > 0, "the commit sits in the WAL while the store is open");
        db.close().await.expect("close");
        assert_eq!(db.get(&key!["a"]).await.unwrap_err().kind(), ErrorKind::Closed);
    });
    assert_eq!(wal_len(), 0, "the WAL was checkpointed into the database file");
    let raw = enginedb_sqlite::rusqlite::Connection::open(&path).expect("raw connection");
    let rows: i64 = raw
        .query_row("SELECT count(*) FROM enginedb_kv", [], |r| r.get(0))
        .expect("read the file");
    assert_eq!(rows, 1);
}
