//! The `Db` API as applications use it: from spawned tasks on a multi-threaded runtime (so the
//! handle, units and `transact` bodies are `Send`), with the application's own error type.

use enginedb::testing::{Faulty, Mask, Masked};
use enginedb::{Db, Error, ErrorKind, MemoryDb, Mode, RetryPolicy, Selector, Write, key};
use futures::StreamExt;

const TASKS: i64 = 8;
const ROUNDS: i64 = 25;

fn masked(mask: Mask) -> Db {
    Db::from(Masked::new(MemoryDb::new(), mask))
}

async fn counter(db: &Db) -> i64 {
    db.get(&key!["n"])
        .await
        .ok()
        .flatten()
        .and_then(|e| e.value.as_i64())
        .unwrap_or(0)
}

#[derive(Debug)]
#[expect(dead_code, reason = "the store error is read through Debug")]
enum AppError {
    Store(Error),
    TooMany(i64),
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Store(error)
    }
}

/// The hot-key race: 64 tasks × 200 increments of one key, none giving up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transact_from_many_tasks_loses_no_increment_under_the_default_policy() {
    const TASKS: i64 = 64;
    const ROUNDS: i64 = 200;
    for mask in [Mask::Native, Mask::BatchOnly] {
        let db = masked(mask);
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        let k = key!["n"];
                        db.transact(async move |tx| {
                            let n = tx.get(&k).await?.and_then(|e| e.value.as_i64()).unwrap_or(0);
                            tx.set(k.clone(), n + 1);
                            Ok::<_, AppError>(n)
                        })
                        .await?;
                    }
                    Ok::<(), AppError>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task panicked").expect("transact failed");
        }
        assert_eq!(counter(&db).await, TASKS * ROUNDS, "{mask:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_from_many_tasks_in_every_mode() {
    for mask in Mask::ALL {
        let db = masked(mask);
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let db = db.clone();
                tokio::spawn(async move {
                    for r in 0..ROUNDS {
                        db.atomic()
                            .sum(key!["n"], 1)
                            .insert(key!["by", t, r], "x")
                            .commit()
                            .await?;
                    }
                    Ok::<(), Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task panicked").expect("unit failed");
        }
        assert_eq!(counter(&db).await, TASKS * ROUNDS, "{mask:?}");
    }
}

#[tokio::test]
async fn a_body_returns_its_own_error_and_writes_nothing() {
    let db = Db::from(MemoryDb::new());
    let outcome = db
        .transact(async |tx| {
            tx.set(key!["written"], "no");
            let n = tx.get(&key!["n"]).await?.and_then(|e| e.value.as_i64()).unwrap_or(7);
            Err::<(), _>(AppError::TooMany(n))
        })
        .await;
    assert!(matches!(outcome, Err(AppError::TooMany(7))), "{outcome:?}");
    assert_eq!(db.get(&key!["written"]).await.unwrap(), None);
}

#[tokio::test]
async fn an_invalid_write_in_a_body_fails_the_transaction() {
    let db = Db::from(MemoryDb::new());
    let outcome = db
        .transact(async |tx| {
            tx.set(key!["fine"], "v").set(key![], "the empty key");
            Ok::<_, Error>(())
        })
        .await;
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(db.get(&key!["fine"]).await.unwrap(), None);
}

#[tokio::test]
async fn a_failed_check_names_its_key() {
    for mask in Mask::ALL {
        let db = masked(mask);
        db.set(key!["users", 7], "ada").await.unwrap();
        let error = db
            .atomic()
            .set(key!["other"], "x")
            .check_absent(key!["users", 7])
            .commit()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::CheckFailed { index: 1, key: Some(k) } if *k == key!["users", 7]),
            "{mask:?}: {error}"
        );
        assert!(error.to_string().contains(r#"("users", 7)"#), "{error}");
    }
}

#[tokio::test]
async fn require_atomic_refuses_a_sequential_store() {
    let db = masked(Mask::SequentialOnly);
    let error = db
        .atomic()
        .set(key!["a"], 1)
        .require_atomic()
        .commit()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    let commit = db.atomic().set(key!["a"], 1).commit().await.unwrap();
    assert_eq!(commit.mode, Mode::Sequential);
}

#[tokio::test]
async fn min_and_max_keep_the_extreme() {
    let db = Db::from(MemoryDb::new());
    db.atomic()
        .min(key!["lo"], 5)
        .max(key!["hi"], 5)
        .commit()
        .await
        .unwrap();
    db.atomic()
        .min(key!["lo"], 9)
        .max(key!["hi"], 9)
        .commit()
        .await
        .unwrap();
    db.atomic()
        .min(key!["lo"], -3)
        .max(key!["hi"], -3)
        .commit()
        .await
        .unwrap();
    let got = |k| {
        let db = db.clone();
        async move { db.get(&k).await.unwrap().and_then(|e| e.value.as_i64()) }
    };
    assert_eq!(got(key!["lo"]).await, Some(-3));
    assert_eq!(got(key!["hi"]).await, Some(9));
    db.set(key!["text"], "not a counter").await.unwrap();
    let error = db.atomic().max(key!["text"], 1).commit().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SumFailed);
}

#[tokio::test]
async fn a_prefix_bounded_by_start_and_end() {
    let db = Db::from(MemoryDb::new());
    let unit: Vec<Write> = (0..10).map(|i| Write::set(key!["n", i], i64::from(i))).collect();
    db.write(&unit, enginedb::Atomicity::Require).await.unwrap();
    let listed = |selector: Selector| {
        let db = db.clone();
        async move {
            let entries = db.list(selector).collect().await.unwrap();
            entries.into_iter().filter_map(|e| e.value.as_i64()).collect::<Vec<_>>()
        }
    };
    let prefix = || Selector::prefix(key!["n"]);
    assert_eq!(listed(prefix().start(key!["n", 3]).end(key!["n", 6])).await, [3, 4, 5]);
    assert_eq!(listed(prefix().end(key!["n", 2])).await, [0, 1]);
    assert_eq!(listed(prefix().start(key!["n", 8])).await, [8, 9]);
    let outside = db.list(prefix().start(key!["m"])).page().await.unwrap_err();
    assert_eq!(outside.kind(), ErrorKind::InvalidInput);
    assert!(!outside.to_string().contains("written"), "a read's message: {outside}");
}

#[tokio::test]
async fn a_stream_pages_by_itself_and_a_failed_read_ends_it_with_an_error() {
    let store = MemoryDb::new();
    let db = Db::from(store.clone());
    let unit: Vec<Write> = (0..25).map(|i| Write::set(key!["s", i], i64::from(i))).collect();
    db.write(&unit, enginedb::Atomicity::Require).await.unwrap();
    let all = db.list(Selector::prefix(key!["s"])).limit(10).collect().await.unwrap();
    assert_eq!(all.len(), 25);

    // The third page's read fails: the stream yields 20 entries, then the error.
    let faulty = Db::from(Faulty::new(store).fail_read(3));
    let items: Vec<_> = faulty
        .list(Selector::prefix(key!["s"]))
        .limit(10)
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 21);
    assert!(items.iter().take(20).all(Result::is_ok));
    assert!(
        matches!(items.last(), Some(Err(Error::Backend { .. }))),
        "{:?}",
        items.last()
    );
}

#[tokio::test]
async fn a_closed_handle_refuses_everything_and_closing_twice_is_fine() {
    let db = Db::from(MemoryDb::new());
    let clone = db.clone();
    db.close().await.unwrap();
    db.close().await.unwrap();
    assert_eq!(clone.get(&key!["a"]).await.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(clone.set(key!["a"], 1).await.unwrap_err().kind(), ErrorKind::Closed);
}

/// A transaction whose first attempt loses a race (another writer changes what it read before
/// it commits): under `RetryPolicy::NONE` on the handle it fails with `Conflict`; under a
/// policy set for the call it runs again and commits.
#[tokio::test]
async fn the_retry_policy_is_set_on_the_handle_and_per_call() {
    let db = masked(Mask::BatchOnly).with_retry_policy(RetryPolicy::NONE);
    assert_eq!(db.retry_policy(), RetryPolicy::NONE);
    let other = db.clone();
    let run = |policy: Option<RetryPolicy>| {
        let (db, other) = (db.clone(), other.clone());
        async move {
            let mut first = true;
            let transaction = match policy {
                Some(policy) => db.transaction().retry(policy),
                None => db.transaction(),
            };
            transaction
                .run(async |tx| {
                    let n = tx.get(&key!["n"]).await?.and_then(|e| e.value.as_i64()).unwrap_or(0);
                    if std::mem::take(&mut first) {
                        other.set(key!["n"], 100).await?;
                    }
                    tx.set(key!["n"], n + 1);
                    Ok::<_, Error>(n)
                })
                .await
        }
    };
    let error = run(None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    let done = run(Some(RetryPolicy::default())).await.unwrap();
    assert_eq!((done.value, done.attempts, done.commit.mode), (100, 2, Mode::Batch));
}

/// After a write fails, the transaction cannot commit, even if the body swallows the error
/// and returns `Ok`: nothing of it is written. Error indexes count the transaction's writes.
#[tokio::test]
async fn a_swallowed_error_still_fails_the_transaction_and_indexes_count_every_write() {
    for mask in [Mask::Native, Mask::BatchOnly] {
        let db = masked(mask);
        db.set(key!["taken"], 1).await.unwrap();
        let error = db
            .transact(async |tx| {
                tx.set(key!["a"], 1).set(key!["b"], 2);
                tx.get(&key!["x"]).await?;
                tx.set(key!["c"], 3).insert(key!["taken"], 2);
                let swallowed = tx.get(&key!["y"]).await;
                assert!(
                    swallowed.is_err(),
                    "{mask:?}: the failed insert surfaces at the next read"
                );
                Ok::<_, Error>(())
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::CheckFailed { index: 3, key: Some(k) } if *k == key!["taken"]),
            "{mask:?}: {error}"
        );
        for k in [key!["a"], key!["b"], key!["c"]] {
            assert_eq!(db.get(&k).await.unwrap(), None, "{mask:?}: nothing of it written");
        }

        // A read the store fails, swallowed by the body: the transaction still cannot commit.
        let store = MemoryDb::new();
        let faulty = Db::from(Faulty::new(Masked::new(store.clone(), mask)).fail_read(1));
        let error = faulty
            .transact(async |tx| {
                tx.set(key!["a"], 1);
                let _ = tx.get(&key!["x"]).await;
                Ok::<_, Error>(())
            })
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Backend, "{mask:?}: {error}");
        assert_eq!(Db::from(store).get(&key!["a"]).await.unwrap(), None, "{mask:?}");
    }
}

#[cfg(feature = "serde")]
#[tokio::test]
async fn values_carry_json() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Todo {
        title: String,
        done: bool,
    }
    let db = Db::from(MemoryDb::new());
    let todo = Todo {
        title: "ship".into(),
        done: false,
    };
    db.set(key!["todo", 1], enginedb::Value::json(&todo).unwrap())
        .await
        .unwrap();
    let read: Todo = db.get(&key!["todo", 1]).await.unwrap().unwrap().value.decode().unwrap();
    assert_eq!(read, todo);
    let wrong = db
        .get(&key!["todo", 1])
        .await
        .unwrap()
        .unwrap()
        .value
        .decode::<Vec<u8>>();
    assert_eq!(wrong.unwrap_err().kind(), ErrorKind::Decode);
}

/// Reads, pages and streams are `Send`: they run in spawned tasks (axum handlers need that).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_and_stream_from_spawned_tasks() {
    let db = Db::from(MemoryDb::new());
    let unit: Vec<Write> = (0..30).map(|i| Write::set(key!["p", i], i64::from(i))).collect();
    db.write(&unit, enginedb::Atomicity::Require).await.unwrap();
    let task = tokio::spawn({
        let db = db.clone();
        async move {
            let page = db.list(Selector::prefix(key!["p"])).limit(10).page().await?;
            let mut streamed = 0;
            let mut entries = std::pin::pin!(db.list(Selector::prefix(key!["p"])).limit(7).stream());
            while let Some(entry) = entries.next().await {
                entry?;
                streamed += 1;
            }
            Ok::<_, Error>((page.entries.len(), streamed))
        }
    });
    assert_eq!(task.await.unwrap().unwrap(), (10, 30));
}
