//! Units committed together by the group commit stay independent.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb_redb::{RedbConfig, RedbDb};

#[test]
fn failing_units_in_a_group_are_undone_alone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = futures::executor::block_on(RedbDb::open(RedbConfig::file(dir.path().join("group.redb")))).expect("open");
    enginedb_conformance::support::grouped_units_stay_independent(db);
}

/// Random units (runs of every op kind, on few keys, often failing) have the outcomes and
/// leave the data `MemoryDb` does.
#[test]
fn random_units_match_the_reference() {
    let dir = tempfile::tempdir().expect("temporary directory");
    futures::executor::block_on(async {
        let url = format!("redb://{}/differential.redb", dir.path().display());
        let db = enginedb_redb::RedbDb::open_db(&url).await.expect("open");
        enginedb_testkit::differential::units_match_memory(&db, 400).await;
        db.close().await.expect("close");
    });
}
