//! SIGKILL crash test of the redb adapter: see `enginedb_testkit::crash`.

use std::process::ExitCode;

use enginedb_redb::{RedbConfig, RedbDb};

fn main() -> ExitCode {
    enginedb_testkit::crash::main("redb_sigkill_crash_test", |path| {
        let config = RedbConfig::file(path);
        Box::pin(async move { RedbDb::open(config).await.map(enginedb::Db::from) })
    })
}
