//! A database written by a newer enginedb is refused, and left untouched.

#![allow(clippy::expect_used, clippy::panic)] // test helpers fail loudly

use enginedb::ErrorKind;
use enginedb_redb::{RedbConfig, RedbDb};
use futures::executor::block_on;
use redb::{ReadableDatabase, TableDefinition};

const META: TableDefinition<&str, u64> = TableDefinition::new("enginedb_meta");

/// Opens the file with redb directly, once the adapter's threads (which end just after its last
/// handle is dropped) have let go of it.
fn raw(path: &std::path::Path) -> redb::Database {
    for _ in 0..200 {
        match redb::Database::create(path) {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => std::thread::sleep(std::time::Duration::from_millis(10)),
            other => return other.expect("raw database"),
        }
    }
    panic!("the adapter never released {}", path.display());
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("newer.redb");
    drop(block_on(RedbDb::open(RedbConfig::file(&path))).expect("create"));
    {
        let raw = raw(&path);
        let tx = raw.begin_write().expect("write");
        tx.open_table(META)
            .expect("meta")
            .insert("schema_version", 99)
            .expect("bump");
        tx.commit().expect("commit");
    }
    let error = block_on(RedbDb::open(RedbConfig::file(&path))).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::IncompatibleSchema, "{error}");
    let raw = raw(&path);
    let read = raw.begin_read().expect("read");
    let version = read
        .open_table(META)
        .expect("meta")
        .get("schema_version")
        .expect("get")
        .map(|v| v.value());
    assert_eq!(version, Some(99), "left as it was");
}
