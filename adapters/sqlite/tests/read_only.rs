//! `mode=ro`: an existing store opened for reading only — it is never created or changed,
//! reads work beside a process that writes, and every write is refused with nothing written.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb::key;
use enginedb_sqlite::SqliteDb;
use enginedb_testkit::read_only;
use futures::executor::block_on;

/// A store at `dir/name` holding `["k"] = "v"`, closed.
fn store(dir: &std::path::Path, name: &str) -> String {
    let url = format!("sqlite://{}/{name}", dir.display());
    block_on(read_only::store_holding_one_entry(&url, open));
    url
}

async fn open(url: String) -> enginedb::Result<enginedb::Db> {
    SqliteDb::open_db(&url).await
}

#[test]
fn reads_work_and_writes_are_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // A name SQLite URIs must escape: the store opens by URI when read-only.
    let url = store(dir.path(), "ro%20%231%3F.sqlite3");
    block_on(read_only::reads_work_and_writes_are_refused(&url, open));
}

#[test]
fn a_missing_file_is_an_error_and_stays_missing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("missing.sqlite3");
    let url = format!("sqlite://{}", path.display());
    block_on(read_only::a_missing_file_is_refused(
        &path,
        &url,
        open,
        "there is no SQLite store",
    ));
}

#[test]
fn a_file_without_a_store_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("other.sqlite3");
    let raw = rusqlite::Connection::open(&path).expect("raw connection");
    raw.execute_batch("CREATE TABLE t (x)").expect("a table");
    drop(raw);
    let error = block_on(SqliteDb::open_db(&format!("sqlite://{}?mode=ro", path.display())))
        .expect_err("not an enginedb store");
    assert!(error.to_string().contains("holds no enginedb store"), "{error}");
}

/// Opening for writing needs the write lock (and waits out its busy timeout while another
/// connection holds it); a read-only open takes none.
#[test]
fn reads_beside_a_writer_holding_the_lock() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = store(dir.path(), "busy.sqlite3");
    let writer = rusqlite::Connection::open(dir.path().join("busy.sqlite3")).expect("raw connection");
    writer.execute_batch("BEGIN IMMEDIATE").expect("hold the write lock");
    let started = std::time::Instant::now();
    block_on(async {
        let db = SqliteDb::open_db(&format!("{url}?mode=ro"))
            .await
            .expect("open read-only");
        assert!(db.get(&key!["k"]).await.expect("get").is_some());
        db.close().await.expect("close");
    });
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    writer.execute_batch("ROLLBACK").expect("release");
}
