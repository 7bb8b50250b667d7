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
