//! SIGKILL crash test of the SQLite adapter: see `enginedb_testkit::crash`.

use std::process::ExitCode;

use enginedb_sqlite::{SqliteConfig, SqliteDb};

fn main() -> ExitCode {
    enginedb_testkit::crash::main("sqlite_sigkill_crash_test", |path| {
        let config = SqliteConfig::file(path);
        Box::pin(async move { SqliteDb::open(config).await.map(enginedb::Db::from) })
    })
}
