//! The hot-key race through `transact` under the default retry policy: 64 tasks × 200
//! increments of one key, natively and optimistically over batches; every increment lands
//! and no task gives up. And a feed tailed while 16 tasks commit events for 10 s, natively and
//! over batches: no event appears behind the tail.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb::Db;
use enginedb::testing::{Mask, Masked};
use enginedb_sqlite::{Durability, SqliteConfig, SqliteDb};

/// Runs `work` on a fresh store (relaxed durability) seen through `mask`, then closes it.
fn on_fresh_store<T>(mask: Mask, work: impl AsyncFnOnce(&Db) -> T) -> T {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = SqliteConfig::file(dir.path().join("store"));
    config.durability = Durability::Relaxed;
    futures::executor::block_on(async {
        let db = Db::from(Masked::new(SqliteDb::open(config).await.expect("open"), mask));
        let outcome = work(&db).await;
        db.close().await.expect("close");
        outcome
    })
}

#[test]
fn report_hot_key_race() {
    for mask in [Mask::Native, Mask::BatchOnly] {
        let race = on_fresh_store(mask, async |db| enginedb_testkit::hot_key_race(db, 64, 200).await);
        eprintln!("sqlite {}: {race}", mask.name());
        assert_eq!((race.total, race.gave_up), (64 * 200, 0), "{mask:?}: {race}");
    }
}

#[test]
fn report_feed_tail() {
    for mask in [Mask::Native, Mask::BatchOnly] {
        let tail = on_fresh_store(mask, async |db| {
            enginedb_testkit::feed_tail(db, 16, std::time::Duration::from_secs(10)).await
        });
        eprintln!("sqlite {}: {tail}", mask.name());
        assert!(tail.held() && tail.committed > 0, "{mask:?}: {tail}");
    }
}
