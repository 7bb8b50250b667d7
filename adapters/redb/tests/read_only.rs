//! `mode=ro`: an existing store opened for reading only — it is never created or changed,
//! several processes may read at once, and every write is refused with nothing written.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb::key;
use enginedb_redb::RedbDb;
use enginedb_testkit::read_only;
use futures::executor::block_on;

/// A store at `dir/name` holding `["k"] = "v"`, closed.
fn store(dir: &std::path::Path, name: &str) -> String {
    let url = format!("redb://{}/{name}", dir.display());
    block_on(read_only::store_holding_one_entry(&url, open));
    url
}

async fn open(url: String) -> enginedb::Result<enginedb::Db> {
    RedbDb::open_db(&url).await
}

#[test]
fn reads_work_and_writes_are_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = store(dir.path(), "ro.redb");
    block_on(read_only::reads_work_and_writes_are_refused(&url, open));
}

#[test]
fn a_missing_file_is_an_error_and_stays_missing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("missing.redb");
    let url = format!("redb://{}", path.display());
    block_on(read_only::a_missing_file_is_refused(
        &path,
        &url,
        open,
        "there is no redb store",
    ));
}

#[test]
fn two_readers_at_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("{}?mode=ro", store(dir.path(), "shared.redb"));
    block_on(async {
        let first = RedbDb::open_db(&url).await.expect("first reader");
        let second = RedbDb::open_db(&url).await.expect("second reader");
        for db in [&first, &second] {
            assert!(db.get(&key!["k"]).await.expect("get").is_some());
        }
        first.close().await.expect("close");
        second.close().await.expect("close");
    });
}

/// A read-only open leaves the file as it was: no repair needed, same bytes.
#[test]
fn the_file_is_left_as_it_was() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = store(dir.path(), "same.redb");
    let path = dir.path().join("same.redb");
    let before = std::fs::read(&path).expect("read the file");
    block_on(async {
        let db = RedbDb::open_db(&format!("{url}?mode=ro"))
            .await
            .expect("open read-only");
        assert!(db.get(&key!["k"]).await.expect("get").is_some());
        db.close().await.expect("close");
    });
    assert!(std::fs::read(&path).expect("read the file") == before, "unchanged");
}

/// A file that was not closed cleanly needs a repair, which a read-only open cannot make: it
/// says so, and how to get one.
#[test]
fn a_file_needing_repair_says_so() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (open, copy) = (dir.path().join("open.redb"), dir.path().join("copy.redb"));
    block_on(async {
        let db = RedbDb::open_db(&format!("redb://{}", open.display()))
            .await
            .expect("create");
        db.set(key!["k"], "v").await.expect("write");
        // A copy taken while the store is open is a file that was never closed.
        std::fs::copy(&open, &copy).expect("copy");
        db.close().await.expect("close");
    });
    let error = block_on(RedbDb::open_db(&format!("redb://{}?mode=ro", copy.display()))).expect_err("needs a repair");
    assert!(error.to_string().contains("needs a repair"), "{error}");
    assert!(error.to_string().contains("mode=rw"), "{error}");
}
