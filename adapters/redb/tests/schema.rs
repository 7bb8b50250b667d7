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

/// The layout version recorded in the file.
fn recorded_schema(raw: &redb::Database) -> Option<u64> {
    let read = raw.begin_read().expect("read");
    let meta = read.open_table(META).expect("meta");
    meta.get("schema_version").expect("get").map(|v| v.value())
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
    assert_eq!(recorded_schema(&raw(&path)), Some(99), "left as it was");
}

/// Layout 1: entries under tuple keys `(namespace, encoded key)`.
const ENTRIES_V1: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("enginedb_kv");

/// A stored value of format 1: the bytes, written by `version`.
fn stored_bytes(version: u64, bytes: &[u8]) -> Vec<u8> {
    [&[0x01][..], &version.to_be_bytes(), bytes].concat()
}

#[test]
fn a_layout_1_file_is_upgraded_in_place_with_every_entry_and_version() {
    use enginedb::port::{EngineDb, ListOptions};
    use enginedb::{Selector, Value, Version, Write, key};

    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("layout1.redb");
    {
        let raw = raw(&path);
        let tx = raw.begin_write().expect("write");
        {
            let mut meta = tx.open_table(META).expect("meta");
            meta.insert("schema_version", 1).expect("schema");
            meta.insert("last_version", 7).expect("versions");
            let mut entries = tx.open_table(ENTRIES_V1).expect("entries");
            let counter = [&[0x02][..], &6u64.to_be_bytes(), &(-3i64).to_be_bytes()].concat();
            for (namespace, key, value) in [
                ("", key!["a", 1], stored_bytes(5, b"first")),
                ("", key!["a", 2], counter),
                ("t1", key!["a", 1], stored_bytes(7, b"other namespace")),
            ] {
                entries
                    .insert((namespace, key.encode().as_slice()), value.as_slice())
                    .expect("entry");
            }
        }
        tx.commit().expect("commit");
    }

    let db = block_on(RedbDb::open(RedbConfig::file(&path))).expect("open upgrades");
    let other = db.namespace("t1").expect("namespace");
    block_on(async {
        let first = db.get(&key!["a", 1]).await.expect("get").expect("kept");
        assert_eq!(
            (first.value, first.version),
            (Value::Bytes(b"first".to_vec()), Version(5))
        );
        let counter = db.get(&key!["a", 2]).await.expect("get").expect("kept");
        assert_eq!((counter.value, counter.version), (Value::I64(-3), Version(6)));
        let page = db
            .list(&Selector::prefix(key!["a"]), &ListOptions::default())
            .await
            .expect("list");
        assert_eq!(
            page.entries.len(),
            2,
            "the default namespace holds its two entries only"
        );
        let kept = other.get(&key!["a", 1]).await.expect("get").expect("kept");
        assert_eq!(
            (kept.value, kept.version),
            (Value::Bytes(b"other namespace".to_vec()), Version(7))
        );
        let next = db.write(&Write::set(key!["a", 3], "new")).await.expect("write");
        assert_eq!(next, Version(8), "the version counter carries on");
    });
    drop((db, other));

    let raw = raw(&path);
    assert_eq!(recorded_schema(&raw), Some(2), "layout 2 recorded");
    let read = raw.begin_read().expect("read");
    assert!(read.open_table(ENTRIES_V1).is_err(), "layout 1's table is gone");
}

/// A missing version counter is corrupt data once entries exist (versions never restart at
/// 1); a store that never committed gets its counter at open.
#[test]
fn a_missing_version_counter_is_refused_once_entries_exist() {
    use enginedb::key;
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("counter.redb");
    let url = format!("redb://{}", path.display());
    block_on(async {
        let db = RedbDb::open_db(&url).await.expect("open");
        db.set(key!["k"], 1).await.expect("write");
        db.close().await.expect("close");
    });
    let forget = |path: &std::path::Path| {
        let raw = raw(path);
        let tx = raw.begin_write().expect("write");
        tx.open_table(META)
            .expect("meta")
            .remove("last_version")
            .expect("remove");
        tx.commit().expect("commit");
    };
    forget(&path);
    let error = block_on(RedbDb::open_url(&url)).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");

    let empty = dir.path().join("empty.redb");
    block_on(async {
        let db = RedbDb::open_db(&format!("redb://{}", empty.display()))
            .await
            .expect("open");
        db.close().await.expect("close");
    });
    forget(&empty);
    block_on(async {
        let db = RedbDb::open_db(&format!("redb://{}", empty.display()))
            .await
            .expect("an empty store opens");
        assert_eq!(db.set(key!["k"], 1).await.expect("write").0, 1);
        db.close().await.expect("close");
    });
}
