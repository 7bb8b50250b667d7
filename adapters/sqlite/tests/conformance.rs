//! `SqliteDb` through the whole suite in all three modes, on files (so reopen is tested),
//! with namespaces, and tampered with through SQL; then again reading on the caller's thread
//! (`inline_reads`).

use std::path::{Path, PathBuf};

use enginedb::testing::{Mask, RawRow};
use enginedb::{Error, Result, Value};
use enginedb_conformance::support::FileHarness;
use enginedb_sqlite::{SqliteConfig, SqliteDb};

fn config(path: PathBuf) -> SqliteConfig {
    let mut config = SqliteConfig::file(path);
    config.readers = 2;
    config
}

fn harness(mask: Mask) -> Result<FileHarness<SqliteDb>> {
    let open = |path| -> futures::future::LocalBoxFuture<'static, _> { Box::pin(SqliteDb::open(config(path))) };
    Ok(FileHarness::new(mask, open, SqliteDb::namespace)?.tampering(tamper))
}

fn inline_harness(mask: Mask) -> Result<FileHarness<SqliteDb>> {
    let open = |path| -> futures::future::LocalBoxFuture<'static, _> {
        Box::pin(async move { SqliteDb::open(config(path)).await.map(SqliteDb::inline_reads) })
    };
    Ok(FileHarness::new(mask, open, SqliteDb::namespace)?.tampering(tamper))
}

/// Writes `rows` into the default namespace of the closed store at `path`, with plain SQL.
fn tamper(path: &Path, rows: &[RawRow]) -> Result<()> {
    let sql = |e: rusqlite::Error| Error::backend("tamper", e);
    let connection = rusqlite::Connection::open(path).map_err(sql)?;
    for row in rows {
        let (v, n) = match &row.value {
            Value::Bytes(bytes) => (Some(bytes.as_slice()), None),
            Value::I64(n) => (None, Some(*n)),
        };
        connection
            .execute(
                "INSERT OR REPLACE INTO enginedb_kv (ns, k, v, n, ver) VALUES ('', ?1, ?2, ?3, ?4)",
                (row.key.as_slice(), v, n, row.version),
            )
            .map_err(sql)?;
    }
    Ok(())
}

enginedb_conformance::conformance_suite!(harness, reopen = true, namespaces = true, tamper = true);

/// The whole suite again, every read on the caller's thread.
mod inline_reads {
    enginedb_conformance::conformance_suite!(super::inline_harness, reopen = true, namespaces = true, tamper = true);
}
