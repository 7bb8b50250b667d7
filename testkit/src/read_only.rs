//! What a store opened read-only (`?mode=ro`) must do, for every file-backed adapter.

#![allow(clippy::expect_used, clippy::panic)] // test support fails loudly

use enginedb::{Db, Error, ErrorKind, Selector, key};

/// Creates the store at `url` through `open`, holding `["k"] = "v"`, and closes it.
///
/// # Panics
/// When the store cannot be made (it is a test).
pub async fn store_holding_one_entry<F, Fut>(url: &str, open: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = enginedb::Result<Db>>,
{
    let db = open(url.to_owned()).await.expect("create");
    db.set(key!["k"], "v").await.expect("write");
    db.close().await.expect("close");
}

/// Opening `url` (a file at `path` that does not exist) read-only through `open` fails with
/// `InvalidInput` saying `says`, and creates nothing.
///
/// # Panics
/// When it does otherwise (it is a test).
pub async fn a_missing_file_is_refused<F, Fut>(path: &std::path::Path, url: &str, open: F, says: &str)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = enginedb::Result<Db>>,
{
    let error = open(format!("{url}?mode=ro")).await.expect_err("no store there");
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().contains(says), "{error}");
    assert!(!path.exists(), "nothing created");
}

/// Opens the existing store at `url` (which holds `["k"] = "v"`) read-only through `open` and
/// checks that reads work, that a transaction which only reads commits at the version it
/// read, that every write is refused with nothing written, and that the store is unchanged.
///
/// # Panics
/// When the store behaves otherwise (it is a test).
pub async fn reads_work_and_writes_are_refused<F, Fut>(url: &str, open: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = enginedb::Result<Db>>,
{
    let db = open(format!("{url}?mode=ro")).await.expect("open read-only");
    let entry = db.get(&key!["k"]).await.expect("get").expect("present");
    assert_eq!(entry.value.as_str(), Some("v"));
    assert_eq!(
        db.list(Selector::prefix(key![])).collect().await.expect("list").len(),
        1
    );
    refused(db.set(key!["k"], "w").await);
    refused(db.atomic().set(key!["a"], 1).commit().await);
    let read = db
        .transaction()
        .run(async |tx| tx.get(&key!["k"]).await.map(|e| e.is_some()))
        .await
        .expect("a transaction that only reads");
    assert!(read.value);
    assert_eq!(read.commit.version, entry.version, "it reports the version it read at");
    refused(
        db.transact(async |tx| {
            tx.set(key!["k"], "w");
            Ok::<_, Error>(())
        })
        .await,
    );
    db.close().await.expect("close");
    let db = open(url.to_owned()).await.expect("open");
    let entry = db.get(&key!["k"]).await.expect("get").expect("present");
    assert_eq!(entry.value.as_str(), Some("v"), "unchanged");
    assert!(db.get(&key!["a"]).await.expect("get").is_none());
    db.close().await.expect("close");
}

fn refused<T: std::fmt::Debug>(result: Result<T, Error>) {
    let error = result.expect_err("a write to a read-only store");
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
    assert!(error.to_string().contains("read-only"), "{error}");
    assert!(error.to_string().contains("nothing was written"), "{error}");
}
