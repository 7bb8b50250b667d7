//! redb: one table of byte keys and values, a read transaction per read, a durable
//! (`Durability::Immediate`, redb's default) write transaction per write or unit.

use std::path::Path;

use enginedb::{Error, Result};
use enginedb_redb::redb::{Database, ReadOnlyTable, ReadableDatabase, TableDefinition};

use crate::bench::store::{Batch, Item, Store};

const KV: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("kv");

pub(crate) struct RawRedb(Database);

fn fail(error: impl Into<enginedb_redb::redb::Error>) -> Error {
    Error::backend("raw redb", error.into())
}

impl RawRedb {
    pub(crate) fn open(path: &Path) -> Result<RawRedb> {
        let db = Database::create(path).map_err(fail)?;
        let tx = db.begin_write().map_err(fail)?;
        tx.open_table(KV).map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(RawRedb(db))
    }

    /// The table in a fresh read transaction.
    fn snapshot(&self) -> Result<ReadOnlyTable<&'static [u8], &'static [u8]>> {
        self.0.begin_read().map_err(fail)?.open_table(KV).map_err(fail)
    }

    fn write(&self, items: &[Item], value: &[u8]) -> Result<()> {
        let tx = self.0.begin_write().map_err(fail)?;
        {
            let mut table = tx.open_table(KV).map_err(fail)?;
            for item in items {
                table.insert(item.bytes.as_slice(), value).map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }
}

/// Whether `item` holds a (non-empty) value.
fn present(table: &ReadOnlyTable<&'static [u8], &'static [u8]>, item: &Item) -> Result<bool> {
    Ok(table
        .get(item.bytes.as_slice())
        .map_err(fail)?
        .is_some_and(|value| !value.value().is_empty()))
}

#[async_trait::async_trait]
impl Store for RawRedb {
    async fn get(&self, item: &Item) -> Result<bool> {
        present(&self.snapshot()?, item)
    }

    async fn get_many(&self, batch: &Batch) -> Result<usize> {
        let items = &batch.items;
        let table = self.snapshot()?;
        let mut found = 0;
        for item in items {
            found += usize::from(present(&table, item)?);
        }
        Ok(found)
    }

    async fn list(&self, start: &Item, end: &Item, limit: usize) -> Result<usize> {
        let table = self.snapshot()?;
        let mut count = 0;
        for entry in table
            .range(start.bytes.as_slice()..end.bytes.as_slice())
            .map_err(fail)?
            .take(limit)
        {
            let (_key, value) = entry.map_err(fail)?;
            count += usize::from(!value.value().is_empty());
        }
        Ok(count)
    }

    async fn put(&self, item: &Item, value: &[u8]) -> Result<()> {
        self.write(std::slice::from_ref(item), value)
    }

    async fn unit(&self, batch: &Batch) -> Result<()> {
        let (items, value) = (&batch.items, batch.value.as_slice());
        self.write(items, value)
    }
}
