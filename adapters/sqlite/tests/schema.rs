//! A database written by a newer enginedb is refused, and left untouched.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb::ErrorKind;
use enginedb_sqlite::{SqliteConfig, SqliteDb};
use futures::executor::block_on;

#[test]
fn a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("newer.sqlite3");
    drop(block_on(SqliteDb::open(SqliteConfig::file(&path))).expect("create"));
    let raw = rusqlite::Connection::open(&path).expect("raw connection");
    raw.execute("UPDATE enginedb_meta SET value = 99 WHERE name = 'schema_version'", [])
        .expect("bump");
    drop(raw);
    let error = block_on(SqliteDb::open(SqliteConfig::file(&path))).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::IncompatibleSchema, "{error}");
    assert!(error.to_string().contains("99"), "{error}");
    let raw = rusqlite::Connection::open(&path).expect("raw connection");
    let version: i64 = raw
        .query_row(
            "SELECT value FROM enginedb_meta WHERE name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .expect("read");
    assert_eq!(version, 99, "left as it was");
}

/// A stored version that no commit can have (0, negative) reads as `Corrupt`, never as a
/// version or a skipped row.
#[test]
fn an_impossible_stored_version_is_corrupt() {
    use enginedb::key;
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/versions.sqlite3", dir.path().display());
    block_on(async {
        let db = SqliteDb::open_db(&url).await.expect("open");
        db.set(key!["k"], "v").await.expect("write");
        db.close().await.expect("close");
    });
    for bad in [0, -5] {
        let raw = rusqlite::Connection::open(dir.path().join("versions.sqlite3")).expect("raw connection");
        raw.execute("UPDATE enginedb_kv SET ver = ?1", [bad]).expect("tamper");
        drop(raw);
        block_on(async {
            let db = SqliteDb::open_db(&url).await.expect("open");
            let error = db.get(&key!["k"]).await.expect_err("corrupt");
            assert_eq!(error.kind(), ErrorKind::Corrupt, "{bad}: {error}");
            let listed = db.list(enginedb::Selector::prefix(key![])).collect().await;
            assert_eq!(listed.map_err(|e| e.kind()), Err(ErrorKind::Corrupt), "{bad}");
            db.close().await.expect("close");
        });
    }
}
