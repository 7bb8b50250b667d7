//! The hot-key race through `transact` under the default retry policy: 64 tasks × 200
//! increments of one key, natively and optimistically over batches; every increment lands
//! and no task gives up.

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
