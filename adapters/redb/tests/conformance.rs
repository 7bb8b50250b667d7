//! `RedbDb` through the whole suite in all three modes, on files (so reopen is tested), with
//! namespaces, and tampered with through redb's own tables; then again reading on the caller's
//! thread (`inline_reads`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use enginedb::testing::{Mask, RawRow};
use enginedb::{Error, Result, Value};
use enginedb_conformance::support::FileHarness;
use enginedb_redb::{RedbConfig, RedbDb};
use redb::TableDefinition;

/// The adapter's entries table: `namespace ++ 0x00 ++ key bytes` → format byte, version (u64
/// BE), payload (see the adapter's `store` module).
const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("enginedb_entries");

fn config(path: PathBuf) -> RedbConfig {
    let mut config = RedbConfig::file(path);
    config.readers = 2;
    config
}

fn harness(mask: Mask) -> Result<FileHarness<RedbDb>> {
    let open = |path| -> futures::future::LocalBoxFuture<'static, _> { Box::pin(RedbDb::open(config(path))) };
    Ok(FileHarness::new(mask, open, RedbDb::namespace)?.tampering(tamper))
}

fn inline_harness(mask: Mask) -> Result<FileHarness<RedbDb>> {
    let open = |path| -> futures::future::LocalBoxFuture<'static, _> {
        Box::pin(async move { RedbDb::open(config(path)).await.map(RedbDb::inline_reads) })
    };
    Ok(FileHarness::new(mask, open, RedbDb::namespace)?.tampering(tamper))
}

/// Writes `rows` into the default namespace of the closed store at `path`. redb keeps
/// versions unsigned: a negative one is `Unsupported`.
fn tamper(path: &Path, rows: &[RawRow]) -> Result<()> {
    let redb = |e: redb::Error| Error::backend("tamper", e);
    let mut stored = Vec::with_capacity(rows.len());
    for row in rows {
        let mut key = vec![0x00];
        key.extend_from_slice(&row.key);
        let (tag, payload) = match &row.value {
            Value::Bytes(bytes) => (0x01, bytes.clone()),
            Value::I64(n) => (0x02, n.to_be_bytes().to_vec()),
        };
        let mut value = vec![tag];
        value.extend_from_slice(&row.unsigned_version()?.to_be_bytes());
        value.extend_from_slice(&payload);
        stored.push((key, value));
    }
    let db = open_released(path)?;
    let tx = db.begin_write().map_err(|e| redb(e.into()))?;
    {
        let mut entries = tx.open_table(ENTRIES).map_err(|e| redb(e.into()))?;
        for (key, value) in &stored {
            entries
                .insert(key.as_slice(), value.as_slice())
                .map_err(|e| redb(e.into()))?;
        }
    }
    tx.commit().map_err(|e| redb(e.into()))
}

/// The file opened with redb directly, once the adapter's threads have let go of it.
fn open_released(path: &Path) -> Result<redb::Database> {
    for _ in 0..200 {
        match redb::Database::create(path) {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => std::thread::sleep(Duration::from_millis(10)),
            other => return other.map_err(|e| Error::backend("tamper", e)),
        }
    }
    Err(Error::busy(format!("the adapter never released {}", path.display())))
}

enginedb_conformance::conformance_suite!(harness, reopen = true, namespaces = true, tamper = true);

/// The whole suite again, every read on the caller's thread.
mod inline_reads {
    enginedb_conformance::conformance_suite!(super::inline_harness, reopen = true, namespaces = true, tamper = true);
}
