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

/// A store opens in the stock `sqlite3` (Debian's is 3.40, older than the `RAISE` with an
/// expression of SQLite 3.47): it can read the entries, and the guard's error still names the
/// op — also in a store first written by a build whose trigger used that `RAISE`. Needs the
/// `sqlite3` command (`cargo xtask test` installs Debian's): without it the test fails.
#[test]
fn stock_sqlite3_opens_a_store() {
    use enginedb::key;
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("stock.sqlite3");
    // As the earlier build left it: its trigger, which stock `sqlite3` cannot parse.
    let raw = rusqlite::Connection::open(&path).expect("raw connection");
    raw.execute_batch(
        "CREATE TABLE enginedb_guard (op INTEGER NOT NULL, reason TEXT NOT NULL) STRICT; \
         CREATE TRIGGER enginedb_guard_raises BEFORE INSERT ON enginedb_guard \
         BEGIN SELECT RAISE(ABORT, 'enginedb-guard:' || NEW.reason || ':' || NEW.op); END",
    )
    .expect("earlier schema");
    drop(raw);
    block_on(async {
        let db = SqliteDb::open_db(&format!("sqlite://{}", path.display()))
            .await
            .expect("open");
        db.set(key!["greeting"], "hello").await.expect("write");
        let failed = db
            .atomic()
            .set(key!["a"], 1)
            .check_absent(key!["greeting"])
            .commit()
            .await;
        assert!(
            matches!(failed, Err(enginedb::Error::CheckFailed { index: 1, .. })),
            "{failed:?}"
        );
        db.close().await.expect("close");
    });
    let out = std::process::Command::new("sqlite3")
        .arg(&path)
        .arg("SELECT count(*) FROM enginedb_kv; INSERT INTO enginedb_guard VALUES (7, 'check');")
        .output()
        .expect("the `sqlite3` command (Debian: apt-get install sqlite3)");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(stdout.trim(), "1", "stdout {stdout:?}, stderr {stderr:?}");
    assert!(stderr.contains("enginedb-guard:check:7"), "stderr {stderr:?}");
}

/// A store whose version counter is gone is refused (for writing and for reading), never given
/// a new one: versions would start again below those stored.
#[test]
fn a_missing_version_counter_is_corrupt() {
    use enginedb::key;
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("counter.sqlite3");
    let url = format!("sqlite://{}", path.display());
    block_on(async {
        let db = SqliteDb::open_db(&url).await.expect("open");
        db.set(key!["k"], "v").await.expect("write");
        db.close().await.expect("close");
    });
    let raw = rusqlite::Connection::open(&path).expect("raw connection");
    raw.execute("DELETE FROM enginedb_meta WHERE name = 'last_version'", [])
        .expect("tamper");
    drop(raw);
    for url in [url.clone(), format!("{url}?mode=ro")] {
        let error = block_on(SqliteDb::open_db(&url)).expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::Corrupt, "{url}: {error}");
        assert!(error.to_string().contains("last_version"), "{error}");
    }
    let raw = rusqlite::Connection::open(&path).expect("raw connection");
    let counters: i64 = raw
        .query_row(
            "SELECT count(*) FROM enginedb_meta WHERE name = 'last_version'",
            [],
            |r| r.get(0),
        )
        .expect("read");
    assert_eq!(counters, 0, "not recreated");
}
