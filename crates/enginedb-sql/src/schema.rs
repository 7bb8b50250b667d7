//! The schema: what the tables are, the recorded schema version, and idempotent creation.
//!
//! | table            | columns                                  | holds                          |
//! |------------------|------------------------------------------|--------------------------------|
//! | `enginedb_meta`  | `name` TEXT key, `value` INTEGER         | `schema_version`, `last_version` |
//! | `enginedb_kv`    | `ns` TEXT, `k` BLOB, `v` BLOB, `n` INTEGER, `ver` INTEGER; key `(ns, k)` | entries: bytes in `v` or a counter in `n`, never both |
//! | `enginedb_guard` | `op` INTEGER, `reason` TEXT              | nothing: every insert fails    |
//!
//! Namespaces share the tables (the `ns` column) and the version counter, so versions order
//! commits across the whole database.

use enginedb::{Error, Result};

/// The schema version this build writes and reads on SQLite and D1 (PostgreSQL has its own:
/// `postgres::SCHEMA_VERSION`).
pub const SCHEMA_VERSION: i64 = 1;

/// SQLite: whether the metadata table exists (one row with a count).
pub const SQLITE_META_EXISTS: &str =
    "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'enginedb_meta'";

/// SQLite: the recorded schema version, as text.
pub const SQLITE_SCHEMA_VERSION: &str =
    "SELECT CAST(value AS TEXT) AS v FROM enginedb_meta WHERE name = 'schema_version'";

/// SQLite: creates whatever is missing; safe to run on every open.
pub const SQLITE_CREATE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS enginedb_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT",
    "INSERT OR IGNORE INTO enginedb_meta (name, value) VALUES ('schema_version', 1), ('last_version', 0)",
    "CREATE TABLE IF NOT EXISTS enginedb_kv (\
        ns TEXT NOT NULL, k BLOB NOT NULL, v BLOB, n INTEGER, ver INTEGER NOT NULL, \
        PRIMARY KEY (ns, k), CHECK ((v IS NULL) <> (n IS NULL))) STRICT, WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS enginedb_guard (op INTEGER NOT NULL, reason TEXT NOT NULL) STRICT",
    // The guard's error must carry the op's index, but `RAISE` takes an expression only since
    // SQLite 3.47 (a store whose schema holds one cannot be opened by older `sqlite3`s). A JSON
    // path error quotes the path in every version since 3.38, so the trigger fails with that.
    "DROP TRIGGER IF EXISTS enginedb_guard_raises",
    "CREATE TRIGGER IF NOT EXISTS enginedb_guard_fails BEFORE INSERT ON enginedb_guard \
        BEGIN SELECT json_extract('{}', 'enginedb-guard:' || NEW.reason || ':' || NEW.op); END",
];

/// Checks a recorded schema version (`None`: a new database) against the one this build
/// `supported`.
///
/// # Errors
/// `IncompatibleSchema` for a newer version; `Corrupt` for one that is not a number.
pub fn check_version(recorded: Option<&str>, supported: i64) -> Result<()> {
    let Some(text) = recorded else { return Ok(()) };
    let found: i64 = text.parse().map_err(|_| Error::Corrupt {
        message: format!("schema version {text:?} is not a number"),
    })?;
    if found > supported {
        return Err(Error::IncompatibleSchema { found, supported });
    }
    Ok(())
}
