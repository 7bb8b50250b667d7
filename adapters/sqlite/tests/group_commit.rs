//! Units committed together by the group commit stay independent.

#![allow(clippy::expect_used)] // test helpers fail loudly

use enginedb_sqlite::{SqliteConfig, SqliteDb};

#[test]
fn failing_units_in_a_group_are_undone_alone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = futures::executor::block_on(SqliteDb::open(SqliteConfig::file(dir.path().join("group.sqlite3"))))
        .expect("open");
    enginedb_conformance::support::grouped_units_stay_independent(db);
}
