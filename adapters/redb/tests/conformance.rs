//! `RedbDb` through the whole suite in all three modes, on files (so reopen is tested) and
//! with namespaces.

use enginedb::testing::Mask;
use enginedb_conformance::support::FileHarness;
use enginedb_redb::{RedbConfig, RedbDb};

fn harness(mask: Mask) -> enginedb::Result<FileHarness<RedbDb>> {
    let open = |path| -> futures::future::LocalBoxFuture<'static, _> {
        let mut config = RedbConfig::file(path);
        config.readers = 2;
        Box::pin(RedbDb::open(config))
    };
    FileHarness::new(mask, open, RedbDb::namespace)
}

enginedb_conformance::conformance_suite!(harness, reopen = true, namespaces = true);
