//! SIGKILL crash test of the SQLite adapter: see `enginedb_conformance::crash`.

use std::process::ExitCode;

use enginedb::EngineDb;
use enginedb_sqlite::{SqliteConfig, SqliteDb};

fn main() -> ExitCode {
    enginedb_conformance::crash::main("sqlite_sigkill_crash_test", |path| {
        let config = SqliteConfig::file(path);
        Box::pin(async move { Ok(Box::new(SqliteDb::open(config).await?) as Box<dyn EngineDb>) })
    })
}
