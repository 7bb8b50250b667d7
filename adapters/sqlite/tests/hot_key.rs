//! The hot-key race through `transact` under the default retry policy: 64 tasks × 200
//! increments of one key, natively and optimistically over batches; every increment lands
//! and no task gives up. And a feed tailed while 16 tasks commit events for 3 s, natively and
//! over batches: no event appears behind the tail.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb::Db;
use enginedb::testing::{Mask, Masked};
use enginedb_sqlite::{Durability, SqliteConfig, SqliteDb};

#[test]
fn report_hot_key_race() {
    for mask in [Mask::Native, Mask::BatchOnly] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = SqliteConfig::file(dir.path().join("hot"));
        config.durability = Durability::Relaxed;
        let race = futures::executor::block_on(async {
            let db = Db::from(Masked::new(SqliteDb::open(config).await.expect("open"), mask));
            let race = enginedb_testkit::hot_key_race(&db, 64, 200).await;
            db.close().await.expect("close");
            race
        });
        eprintln!("sqlite {}: {race}", mask.name());
        assert_eq!((race.total, race.gave_up), (64 * 200, 0), "{mask:?}: {race}");
    }
}

#[test]
fn report_feed_tail() {
    for mask in [Mask::Native, Mask::BatchOnly] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = SqliteConfig::file(dir.path().join("tail"));
        config.durability = Durability::Relaxed;
        let tail = futures::executor::block_on(async {
            let db = Db::from(Masked::new(SqliteDb::open(config).await.expect("open"), mask));
            let tail = enginedb_testkit::feed_tail(&db, 16, std::time::Duration::from_secs(3)).await;
            db.close().await.expect("close");
            tail
        });
        eprintln!("sqlite {}: {tail}", mask.name());
        assert!(tail.held() && tail.committed > 0, "{mask:?}: {tail}");
    }
}
