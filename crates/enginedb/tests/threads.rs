//! The port off wasm32 is `Send + Sync`: stores are shared across threads and units,
//! transactions and `transact` bodies run from spawned tasks on a multi-threaded runtime.

use std::sync::Arc;

use enginedb::{
    Atomicity, EngineDb, Mask, Masked, MemoryDb, RetryPolicy, Value, Write, key, run_atomic_writes, transact_with,
};

const TASKS: i64 = 8;
const ROUNDS: i64 = 25;

async fn counter(db: &dyn EngineDb) -> i64 {
    match db.get(&key!["n"]).await.ok().flatten().map(|e| e.value) {
        Some(Value::I64(n)) => n,
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transact_from_many_threads_loses_no_increment() {
    for mask in [Mask::Native, Mask::BatchOnly] {
        let db: Arc<dyn EngineDb> = Arc::new(Masked::new(MemoryDb::new(), mask));
        let policy = RetryPolicy {
            max_attempts: 1_000,
            ..RetryPolicy::default()
        };
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        transact_with(&*db, policy, |tx| async move {
                            let n = match tx.get(&key!["n"]).await?.map(|e| e.value) {
                                Some(Value::I64(n)) => n,
                                _ => 0,
                            };
                            tx.set(key!["n"], n + 1).await
                        })
                        .await?;
                    }
                    Ok::<(), enginedb::Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task panicked").expect("transact failed");
        }
        assert_eq!(counter(&*db).await, TASKS * ROUNDS, "{mask:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_from_many_threads_in_every_mode() {
    for mask in Mask::ALL {
        let db: Arc<dyn EngineDb> = Arc::new(Masked::new(MemoryDb::new(), mask));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let db = db.clone();
                tokio::spawn(async move {
                    for r in 0..ROUNDS {
                        let unit = [Write::sum(key!["n"], 1), Write::insert(key!["by", t, r], "x")];
                        run_atomic_writes(&*db, &unit, Atomicity::BestEffort).await?;
                    }
                    Ok::<(), enginedb::Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task panicked").expect("unit failed");
        }
        assert_eq!(counter(&*db).await, TASKS * ROUNDS, "{mask:?}");
    }
}
