//! rusqlite: one connection in WAL mode with `synchronous = FULL` (the adapter's default
//! durability), a `WITHOUT ROWID` table, cached statements.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use enginedb::{Error, Result};
use enginedb_sqlite::rusqlite::{Connection, TransactionBehavior, params};

use crate::bench::store::{Batch, Item, Store};

const GET: &str = "SELECT value FROM kv WHERE key = ?1";
const LIST: &str = "SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3";
const PUT: &str = "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

pub(crate) struct RawSqlite(Mutex<Connection>);

fn fail(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::backend("raw sqlite", error)
}

impl RawSqlite {
    pub(crate) fn open(path: &Path) -> Result<RawSqlite> {
        let connection = Connection::open(path).map_err(fail)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
                 CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;",
            )
            .map_err(fail)?;
        Ok(RawSqlite(Mutex::new(connection)))
    }

    fn connection(&self) -> Result<MutexGuard<'_, Connection>> {
        self.0.lock().map_err(|_| Error::Closed)
    }
}

/// Whether `item` holds a (non-empty) value, read through the cached statement.
fn present(connection: &Connection, item: &Item) -> Result<bool> {
    let mut statement = connection.prepare_cached(GET).map_err(fail)?;
    let mut rows = statement.query([&item.bytes]).map_err(fail)?;
    match rows.next().map_err(fail)? {
        Some(row) => Ok(!row.get_ref(0).map_err(fail)?.as_blob().map_err(fail)?.is_empty()),
        None => Ok(false),
    }
}

#[async_trait::async_trait]
impl Store for RawSqlite {
    async fn get(&self, item: &Item) -> Result<bool> {
        present(&*self.connection()?, item)
    }

    async fn get_many(&self, batch: &Batch) -> Result<usize> {
        let items = &batch.items;
        let mut connection = self.connection()?;
        let snapshot = connection.transaction().map_err(fail)?;
        let mut found = 0;
        for item in items {
            found += usize::from(present(&snapshot, item)?);
        }
        Ok(found)
    }

    async fn list(&self, start: &Item, end: &Item, limit: usize) -> Result<usize> {
        let connection = self.connection()?;
        let mut statement = connection.prepare_cached(LIST).map_err(fail)?;
        let limit = i64::try_from(limit).map_err(|e| Error::backend("raw sqlite", e))?;
        let mut rows = statement.query(params![start.bytes, end.bytes, limit]).map_err(fail)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(fail)? {
            let _value: &[u8] = row.get_ref(1).map_err(fail)?.as_blob().map_err(fail)?;
            count += 1;
        }
        Ok(count)
    }

    async fn put(&self, item: &Item, value: &[u8]) -> Result<()> {
        let connection = self.connection()?;
        let mut statement = connection.prepare_cached(PUT).map_err(fail)?;
        statement.execute(params![item.bytes, value]).map(drop).map_err(fail)
    }

    async fn unit(&self, batch: &Batch) -> Result<()> {
        let (items, value) = (&batch.items, batch.value.as_slice());
        let mut connection = self.connection()?;
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        {
            let mut statement = tx.prepare_cached(PUT).map_err(fail)?;
            for item in items {
                statement.execute(params![item.bytes, value]).map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }
}
