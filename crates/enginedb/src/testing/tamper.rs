//! Tampering: rows written as a store keeps them, past the core's encoding and checks, so tests
//! can prove that stored bytes no enginedb writes are reported `Corrupt` — never skipped, never
//! returned as data, never a panic.
//!
//! Each adapter's test harness writes [`RawRow`]s its own way (SQL on SQLite, D1 and
//! PostgreSQL, its tables on redb); [`tamper_memory`] is [`MemoryDb`]'s hook.

use crate::error::{Error, Result};
use crate::memory::MemoryDb;
use crate::value::Value;

/// A row as a store keeps it: key bytes, value and version, none of them checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    /// The stored key bytes: for a row enginedb wrote, the format byte then the tuple encoding
    /// (see [`crate::Key::encode`]); here any bytes, the empty string included.
    pub key: Vec<u8>,
    /// The value.
    pub value: Value,
    /// The stored version: for a row enginedb wrote, its commit's version (at least 1); here
    /// any number. A store that keeps versions unsigned (MemoryDb, redb) cannot hold a negative
    /// one (see [`RawRow::unsigned_version`]).
    pub version: i64,
}

impl RawRow {
    /// The row `key` → `value` at `version`.
    pub fn new(key: impl Into<Vec<u8>>, value: impl Into<Value>, version: i64) -> Self {
        RawRow {
            key: key.into(),
            value: value.into(),
            version,
        }
    }

    /// The version as a store that keeps versions unsigned holds it.
    ///
    /// # Errors
    /// `Unsupported` for a negative version: such a store cannot hold one.
    pub fn unsigned_version(&self) -> Result<u64> {
        u64::try_from(self.version).map_err(|_| Error::Unsupported {
            operation: "storing a negative version",
            adapter: "a store with unsigned versions".into(),
        })
    }
}

/// Writes `rows` into `db`'s namespace as they are, replacing what their keys held; draws no
/// version.
///
/// # Errors
/// `Unsupported` for a negative version (MemoryDb keeps versions unsigned); nothing is then
/// written.
pub fn tamper_memory(db: &MemoryDb, rows: &[RawRow]) -> Result<()> {
    db.put_raw(rows)
}
