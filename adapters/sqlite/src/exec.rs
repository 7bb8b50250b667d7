//! Running `enginedb-sql` statements on a rusqlite connection, and mapping its errors.

use std::sync::atomic::{AtomicUsize, Ordering};

use enginedb::port::{EncodedWrite, ListPlan};
use enginedb::{Entry, Error, Key, Result, Version};
use enginedb_kit::packed::{PackedKeys, PackedRows, ValueRef};
use enginedb_sql::{Param, guard, row, sqlite};
use rusqlite::types::{ToSqlOutput, ValueRef as SqlValue};
use rusqlite::{Connection, ErrorCode, OptionalExtension};

/// The one mapping of rusqlite errors to port errors: a guard's abort to `CheckFailed` or
/// `SumFailed`, SQLITE_BUSY/LOCKED to `Busy`, anything else to `Backend`.
pub(crate) fn map_err(error: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, message) = &error {
        if let Some(guarded) = message.as_deref().and_then(guard::parse) {
            return guarded;
        }
        if matches!(failure.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) {
            return Error::busy(error.to_string());
        }
    }
    Error::backend("sqlite", error)
}

/// As [`map_err`], for a `COMMIT`: an I/O failure while it writes or syncs the WAL may leave
/// the transaction committed or not, so its outcome is unknown.
pub(crate) fn commit_error(error: rusqlite::Error) -> Error {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(failure.code, ErrorCode::SystemIoFailure | ErrorCode::DiskFull) =>
        {
            Error::OutcomeUnknown {
                message: format!("SQLite failed while committing: {error}"),
            }
        }
        _ => map_err(error),
    }
}

fn bind<'p>(param: &'p Param<'_>) -> ToSqlOutput<'p> {
    match param {
        Param::Null => ToSqlOutput::Borrowed(SqlValue::Null),
        Param::Blob(b) => ToSqlOutput::Borrowed(SqlValue::Blob(b)),
        Param::Text(t) => ToSqlOutput::Borrowed(SqlValue::Text(t.as_bytes())),
        Param::Int(n) => match i64::try_from(*n) {
            Ok(n) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(n)),
            // Beyond SQLite's integers (a version that is no version): CAST clamps the text.
            Err(_) => ToSqlOutput::Owned(rusqlite::types::Value::Text(n.to_string())),
        },
    }
}

/// Makes the k-th statement of a unit fail, for tests (0: never).
#[derive(Debug, Default)]
pub(crate) struct StatementFault(AtomicUsize);

impl StatementFault {
    pub(crate) fn arm(&self, k: usize) {
        self.0.store(k, Ordering::SeqCst);
    }

    /// Whether statement number `n` (1-based) of the current unit must fail; disarms if so.
    fn fires_at(&self, n: usize) -> bool {
        self.0
            .compare_exchange(n, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

/// Counts the statements of the running unit or transaction, for fault injection.
#[derive(Debug, Default)]
pub(crate) struct Counter(usize);

impl Counter {
    /// Counts one more statement; fails it if the armed fault says so.
    fn next(&mut self, fault: &StatementFault) -> Result<()> {
        self.0 += 1;
        if fault.fires_at(self.0) {
            return Err(Error::backend(
                "sqlite",
                format!("statement {} failed (injected fault)", self.0),
            ));
        }
        Ok(())
    }
}

/// Draws the unit's version: the first statement of every unit.
pub(crate) fn bump_version(connection: &Connection, fault: &StatementFault, counter: &mut Counter) -> Result<Version> {
    counter.next(fault)?;
    let text: String = connection
        .prepare_cached(sqlite::BUMP_VERSION)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(map_err)?;
    parse_version(&text)
}

/// Runs the statements of `ops`, writing `version` (drawn by [`bump_version`]).
pub(crate) fn apply(
    connection: &Connection,
    namespace: &str,
    ops: &[EncodedWrite],
    version: Version,
    fault: &StatementFault,
    counter: &mut Counter,
) -> Result<()> {
    // Consecutive statements of one kind (a run of sets) reuse one prepared statement.
    let mut prepared: Option<(&str, rusqlite::CachedStatement<'_>)> = None;
    for statement in sqlite::plan_unit(namespace, ops, Some(version)) {
        counter.next(fault)?;
        let (_, cached) = match prepared.take() {
            Some((sql, cached)) if sql == statement.sql => prepared.insert((sql, cached)),
            _ => prepared.insert((
                statement.sql,
                connection.prepare_cached(statement.sql).map_err(map_err)?,
            )),
        };
        cached
            .execute(rusqlite::params_from_iter(statement.params.iter().map(bind)))
            .map_err(map_err)?;
    }
    Ok(())
}

/// The last version drawn: what a transaction that wrote nothing on a read-only store
/// reports.
pub(crate) fn last_version(connection: &Connection) -> Result<Version> {
    let text: Option<String> = connection
        .prepare_cached(sqlite::LAST_VERSION)
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(map_err)?;
    let text = text.ok_or_else(|| Error::Corrupt {
        message: "the version counter (last_version) is missing".into(),
    })?;
    parse_version(&text)
}

fn parse_version(text: &str) -> Result<Version> {
    text.parse().map(Version).map_err(|_| Error::Corrupt {
        message: format!("stored version {text:?} is not a number"),
    })
}

/// The value and version of a row whose columns `first..first + 3` are `(v, n, ver)` (the
/// integers as text, as the dialect reads them), borrowed from the row.
fn stored<'r>(row: &'r rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Result<(ValueRef<'r>, Version)>> {
    let text = |i: usize| -> rusqlite::Result<Option<&str>> {
        row.get_ref(i)?
            .as_str_or_null()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
    };
    let v = row
        .get_ref(first)?
        .as_blob_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(first, rusqlite::types::Type::Blob, Box::new(e)))?;
    let ver = text(first + 2)?.unwrap_or_default();
    Ok(row::decode_ref(v, text(first + 1)?, ver))
}

/// The entry at `key`.
pub(crate) fn get(
    connection: &Connection,
    namespace: &str,
    key: Key,
    writing: Option<Version>,
) -> Result<Option<Entry>> {
    let found = connection
        .prepare_cached(sqlite::GET)
        .and_then(|mut statement| {
            statement
                .query_row((namespace, key.as_bytes()), |r| {
                    Ok(stored(r, 0)?.map(|(value, version)| (value.to_value(), version)))
                })
                .optional()
        })
        .map_err(map_err)?;
    let Some(found) = found else { return Ok(None) };
    let (value, version) = found?;
    Ok(Some(Entry {
        key,
        value,
        version: version.as_seen_by(writing),
    }))
}

/// What each of the `keys` (encoded) holds, in order.
pub(crate) fn lookups(
    connection: &Connection,
    namespace: &str,
    keys: &PackedKeys,
    writing: Option<Version>,
) -> Result<PackedRows> {
    let mut statement = connection.prepare_cached(sqlite::GET).map_err(map_err)?;
    let mut rows = PackedRows::with_capacity(keys.len());
    for key in keys.iter() {
        let mut found = statement.query((namespace, key)).map_err(map_err)?;
        match found.next().map_err(map_err)? {
            Some(row) => {
                let (value, version) = stored(row, 0).map_err(map_err)??;
                rows.push_lookup(Some((value, version.as_seen_by(writing))));
            }
            None => rows.push_lookup(None),
        }
    }
    Ok(rows)
}

/// The rows of one page of a list.
pub(crate) fn list(
    connection: &Connection,
    namespace: &str,
    plan: &ListPlan,
    writing: Option<Version>,
) -> Result<PackedRows> {
    let statement = sqlite::list(namespace, plan);
    let mut prepared = connection.prepare_cached(statement.sql).map_err(map_err)?;
    let mut found = prepared
        .query(rusqlite::params_from_iter(statement.params.iter().map(bind)))
        .map_err(map_err)?;
    let mut rows = PackedRows::with_capacity(plan.fetch());
    while let Some(row) = found.next().map_err(map_err)? {
        let key = row.get_ref(0).and_then(|k| Ok(k.as_blob()?)).map_err(map_err)?;
        let (value, version) = stored(row, 1).map_err(map_err)??;
        rows.push_entry(key, value, version.as_seen_by(writing));
    }
    Ok(rows)
}
