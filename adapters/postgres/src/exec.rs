//! The statements of `enginedb-sql`'s PostgreSQL dialect, run through sqlx; and the one
//! mapping of sqlx errors to port errors.

use std::collections::HashMap;

use enginedb::port::ListPlan;
use enginedb::{Entry, Error, Key, Page, Result, Version};
use enginedb_kit::table_key::{encoded_key, table_key, table_span};
use enginedb_sql::postgres::{self, UnitArrays, read_version};
use enginedb_sql::{guard, row};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgExecutor, Postgres, Row};

/// The one mapping of sqlx errors to port errors: a guard's abort to `CheckFailed`/`SumFailed`;
/// serialization failures and deadlocks (40001, 40P01) to `Conflict`; lock and pool timeouts
/// to `Busy`; a lost or refused connection, TLS and authentication failures to `Unavailable`
/// with the driver's reason; a closed pool to `Closed`; anything else to `Backend`. A
/// statement that may have committed by itself maps through [`commit_error`] instead.
pub(crate) fn map_err(error: sqlx::Error) -> Error {
    match &error {
        sqlx::Error::Database(db) => {
            if let Some(guarded) = guard::parse(db.message()) {
                return guarded;
            }
            match db.code().as_deref() {
                Some("40001" | "40P01") => Error::Conflict {
                    message: db.message().to_owned(),
                },
                Some("55P03") => Error::busy(db.message()),
                // Authentication, a database that does not exist, a lost connection, a server
                // shutting down or restarting.
                Some(code)
                    if code.starts_with("28")
                        || code.starts_with("08")
                        || matches!(code, "3D000" | "57P01" | "57P02" | "57P03") =>
                {
                    Error::unavailable(format!(
                        "the PostgreSQL server refused or ended the connection: {}",
                        db.message()
                    ))
                }
                _ => Error::backend("postgres", error),
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
            Error::unavailable(format!("cannot reach the PostgreSQL server: {error}"))
        }
        sqlx::Error::Configuration(_) => Error::invalid(format!("bad PostgreSQL settings: {error}")),
        sqlx::Error::PoolTimedOut => Error::busy("no pooled connection became free in time"),
        sqlx::Error::PoolClosed => Error::Closed,
        _ => Error::backend("postgres", error),
    }
}

/// As [`map_err`], for a statement that commits by itself (a unit's one statement, `COMMIT`):
/// a connection lost before its answer came leaves the outcome unknown.
pub(crate) fn commit_error(error: sqlx::Error) -> Error {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
            Error::OutcomeUnknown {
                message: format!("the connection to PostgreSQL was lost before the commit was confirmed: {error}"),
            }
        }
        other => map_err(other),
    }
}

fn version(drawn: i64) -> Result<Version> {
    u64::try_from(drawn).map(Version).map_err(|_| Error::Corrupt {
        message: format!("drawn version {drawn} is negative"),
    })
}

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// `sql` with a unit's op arrays bound as `$1`..`$6`.
fn with_ops<'q>(sql: &'static str, arrays: &'q UnitArrays) -> Query<'q> {
    bind_ops(sqlx::query(sql), arrays)
}

/// `query` with a unit's op arrays bound as its next six parameters.
fn bind_ops<'q>(query: Query<'q>, arrays: &'q UnitArrays) -> Query<'q> {
    query
        .bind(&arrays.kind)
        .bind(&arrays.key)
        .bind(&arrays.end)
        .bind(&arrays.blob)
        .bind(&arrays.num)
        .bind(&arrays.num2)
}

/// A whole unit in one statement ([`postgres::SETS`] when it only sets); returns its version.
/// A row held by an open transaction is a `Conflict` (nothing was written; the unit may be
/// re-run).
pub(crate) async fn unit<'e>(executor: impl PgExecutor<'e>, arrays: &UnitArrays) -> Result<Version> {
    let sql = if arrays.only_sets() {
        postgres::SETS
    } else {
        postgres::UNIT
    };
    let row = with_ops(sql, arrays).fetch_one(executor).await.map_err(unit_error)?;
    // The unit committed with its statement: a version that does not read back leaves the
    // caller not knowing it, not with nothing written.
    row.try_get(0)
        .map_err(map_err)
        .and_then(version)
        .map_err(|error| Error::OutcomeUnknown {
            message: format!("the unit committed but its version did not read back: {error}"),
        })
}

/// As [`map_err`], except that a unit's lock timeout (55P03: a row it writes is held by an open
/// transaction, which waits for the commit lock the unit holds) is a `Conflict` to re-run.
pub(crate) fn unit_error(error: sqlx::Error) -> Error {
    match error.as_database_error().and_then(|db| db.code()).as_deref() {
        Some("55P03") => Error::Conflict {
            message: "a row of the unit is held by an open transaction".into(),
        },
        _ => commit_error(error),
    }
}

/// Applies ops inside an open transaction.
pub(crate) async fn apply<'e>(executor: impl PgExecutor<'e>, arrays: &UnitArrays) -> Result<()> {
    with_ops(postgres::APPLY, arrays)
        .execute(executor)
        .await
        .map(drop)
        .map_err(map_err)
}

/// Draws the version of an open transaction, stamps its writes (table keys) and makes its
/// versionstamped writes.
pub(crate) async fn stamp<'e>(
    executor: impl PgExecutor<'e>,
    written: &[Vec<u8>],
    stamped: &UnitArrays,
) -> Result<Version> {
    let row = bind_ops(sqlx::query(postgres::STAMP).bind(written), stamped)
        .fetch_one(executor)
        .await
        .map_err(map_err)?;
    version(row.try_get(0).map_err(map_err)?)
}

/// Where a read runs: a row of version 0 is the reading transaction's own write, and can be
/// seen only inside it.
#[derive(Clone, Copy)]
pub(crate) enum Reader {
    Store,
    Transaction,
}

fn entry(key: Key, row: &PgRow, reader: Reader) -> Result<Entry> {
    let v: Option<Vec<u8>> = row.try_get("v").map_err(map_err)?;
    let n: Option<i64> = row.try_get("n").map_err(map_err)?;
    let ver: i64 = row.try_get("ver").map_err(map_err)?;
    Ok(Entry {
        key,
        value: row::value(v, n)?,
        version: read_version(ver, matches!(reader, Reader::Transaction))?,
    })
}

/// The entry at `key`.
pub(crate) async fn get<'e>(
    executor: impl PgExecutor<'e>,
    reader: Reader,
    namespace: &str,
    key: &Key,
) -> Result<Option<Entry>> {
    let found = sqlx::query(postgres::GET)
        .bind(table_key(namespace, key.as_bytes()))
        .fetch_optional(executor)
        .await
        .map_err(map_err)?;
    found.map(|row| entry(key.clone(), &row, reader)).transpose()
}

/// The entries at `keys`, in argument order, in one round trip.
pub(crate) async fn get_many<'e>(
    executor: impl PgExecutor<'e>,
    reader: Reader,
    namespace: &str,
    keys: &[Key],
) -> Result<Vec<Option<Entry>>> {
    let stored: Vec<Vec<u8>> = keys.iter().map(|key| table_key(namespace, key.as_bytes())).collect();
    let rows = sqlx::query(postgres::GET_MANY)
        .bind(&stored)
        .fetch_all(executor)
        .await
        .map_err(map_err)?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        let k: Vec<u8> = row.try_get("k").map_err(map_err)?;
        found.insert(k, row);
    }
    keys.iter()
        .zip(&stored)
        .map(|(key, k)| found.get(k).map(|row| entry(key.clone(), row, reader)).transpose())
        .collect()
}

/// One page of a list.
pub(crate) async fn list<'e>(
    executor: impl PgExecutor<'e>,
    reader: Reader,
    namespace: &str,
    plan: &ListPlan,
) -> Result<Page> {
    let sql = if plan.reverse {
        postgres::LIST_DESC
    } else {
        postgres::LIST_ASC
    };
    let span = table_span(namespace, &plan.range);
    let rows = sqlx::query(sql)
        .bind(&span.start)
        .bind(&span.end)
        .bind(plan.fetch() as i64)
        .fetch_all(executor)
        .await
        .map_err(map_err)?;
    let mut decoded = Vec::with_capacity(rows.len());
    for row in &rows {
        let k: &[u8] = row.try_get("k").map_err(map_err)?;
        let entry = entry(Key::default(), row, reader)?;
        decoded.push((encoded_key(namespace, k)?.to_vec(), entry.value, entry.version));
    }
    plan.page(decoded)
}
