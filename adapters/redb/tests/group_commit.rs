//! Units committed together by the group commit stay independent.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb_redb::{RedbConfig, RedbDb};

#[test]
fn failing_units_in_a_group_are_undone_alone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = futures::executor::block_on(RedbDb::open(RedbConfig::file(dir.path().join("group.redb")))).expect("open");
    enginedb_conformance::support::grouped_units_stay_independent(db);
}
