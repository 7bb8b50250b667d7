//! The raw drivers, doing the benchmark's work the way a program written straight against
//! each would: a plain key/value table (or map), the same durability as the adapter's default,
//! no versions, no namespaces, no validation. The drivers come re-exported from their adapter
//! crates, so both sides run the very same driver build.

#[cfg(feature = "postgres")]
mod postgres;
mod redb;
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Mutex;

use enginedb::{Error, Result};

#[cfg(feature = "postgres")]
pub(crate) use self::postgres::RawPostgres;
pub(crate) use self::redb::RawRedb;
pub(crate) use self::sqlite::RawSqlite;
use super::store::{Batch, Item, Store};

/// The reference for `memory`: a `BTreeMap` behind a mutex.
#[derive(Default)]
pub(crate) struct RawMemory(Mutex<BTreeMap<Vec<u8>, Vec<u8>>>);

impl RawMemory {
    fn map(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>>> {
        self.0.lock().map_err(|_| Error::Closed)
    }
}

#[async_trait::async_trait]
impl Store for RawMemory {
    async fn get(&self, item: &Item) -> Result<bool> {
        Ok(self.map()?.get(&item.bytes).is_some())
    }

    async fn get_many(&self, batch: &Batch) -> Result<usize> {
        let items = &batch.items;
        let map = self.map()?;
        Ok(items.iter().filter(|item| map.contains_key(&item.bytes)).count())
    }

    async fn list(&self, start: &Item, end: &Item, limit: usize) -> Result<usize> {
        Ok(self
            .map()?
            .range(start.bytes.clone()..end.bytes.clone())
            .take(limit)
            .count())
    }

    async fn put(&self, item: &Item, value: &[u8]) -> Result<()> {
        self.map()?.insert(item.bytes.clone(), value.to_vec());
        Ok(())
    }

    async fn unit(&self, batch: &Batch) -> Result<()> {
        let (items, value) = (&batch.items, batch.value.as_slice());
        let mut map = self.map()?;
        for item in items {
            map.insert(item.bytes.clone(), value.to_vec());
        }
        Ok(())
    }
}
