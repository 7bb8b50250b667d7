//! SIGKILL crash test of the redb adapter: see `enginedb_conformance::crash`.

use std::process::ExitCode;

use enginedb::EngineDb;
use enginedb_redb::{RedbConfig, RedbDb};

fn main() -> ExitCode {
    enginedb_conformance::crash::main("redb_sigkill_crash_test", |path| {
        let config = RedbConfig::file(path);
        Box::pin(async move { Ok(Box::new(RedbDb::open(config).await?) as Box<dyn EngineDb>) })
    })
}
