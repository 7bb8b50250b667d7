//! `SqliteDb` through the whole suite in all three modes, on files (so reopen is tested) and
//! with namespaces.

use enginedb::testing::Mask;
use enginedb_conformance::support::FileHarness;
use enginedb_sqlite::{SqliteConfig, SqliteDb};

fn harness(mask: Mask) -> enginedb::Result<FileHarness<SqliteDb>> {
    let open = |path| -> futures::future::LocalBoxFuture<'static, _> {
        let mut config = SqliteConfig::file(path);
        config.readers = 2;
        Box::pin(SqliteDb::open(config))
    };
    FileHarness::new(mask, open, SqliteDb::namespace)
}

enginedb_conformance::conformance_suite!(harness, reopen = true, namespaces = true);
