//! What a benchmark drives: the same five operations on an adapter (through the `Db` an
//! application holds) and on a raw driver, each answering how much it found so a bench that did
//! no work is caught.

use enginedb::{Atomicity, Db, Key, Result, Selector, Value, Write};

/// A key in both forms, made before timing starts: the adapter takes the `Key`, a raw driver
/// its encoded bytes.
#[derive(Clone)]
pub(crate) struct Item {
    pub(crate) key: Key,
    pub(crate) bytes: Vec<u8>,
}

impl Item {
    pub(crate) fn new(key: Key) -> Item {
        let bytes = key.encode();
        Item { key, bytes }
    }
}

/// The keys of one multi-key call, made before timing starts in both forms: the items a raw
/// driver takes, and what an application hands the port (the keys; set ops writing `value`).
pub(crate) struct Batch {
    pub(crate) items: Vec<Item>,
    pub(crate) value: Vec<u8>,
    pub(crate) keys: Vec<Key>,
    pub(crate) sets: Vec<Write>,
}

impl Batch {
    pub(crate) fn new(items: Vec<Item>, value: &[u8]) -> Batch {
        let keys: Vec<Key> = items.iter().map(|item| item.key.clone()).collect();
        let sets = keys
            .iter()
            .map(|key| Write::set(key.clone(), Value::Bytes(value.to_vec())))
            .collect();
        Batch {
            items,
            value: value.to_vec(),
            keys,
            sets,
        }
    }
}

/// A store under test.
#[async_trait::async_trait]
pub(crate) trait Store: Send + Sync {
    /// Whether `item` is present.
    async fn get(&self, item: &Item) -> Result<bool>;
    /// How many of the batch's keys are present, read together.
    async fn get_many(&self, batch: &Batch) -> Result<usize>;
    /// How many entries lie in `[start, end)`, up to `limit`, in key order.
    async fn list(&self, start: &Item, end: &Item, limit: usize) -> Result<usize>;
    /// Writes one entry durably, by itself.
    async fn put(&self, item: &Item, value: &[u8]) -> Result<()>;
    /// Writes the batch's value at all its keys durably, all or nothing, in one commit.
    async fn unit(&self, batch: &Batch) -> Result<()>;
    /// Removes what the bench left on a server it may not own.
    async fn clean_up(&self) -> Result<()> {
        Ok(())
    }
}

/// An adapter, driven the way an application would: through [`Db`], so the figures include
/// what its checks, retry policy and tracing cost.
pub(crate) struct Adapter(pub(crate) Db);

#[async_trait::async_trait]
impl Store for Adapter {
    async fn get(&self, item: &Item) -> Result<bool> {
        Ok(self.0.get(&item.key).await?.is_some())
    }

    async fn get_many(&self, batch: &Batch) -> Result<usize> {
        Ok(self.0.get_many(&batch.keys).await?.iter().flatten().count())
    }

    async fn list(&self, start: &Item, end: &Item, limit: usize) -> Result<usize> {
        let selector = Selector::range(start.key.clone(), end.key.clone());
        Ok(self.0.list(selector).limit(limit).page().await?.entries.len())
    }

    async fn put(&self, item: &Item, value: &[u8]) -> Result<()> {
        self.0.set(item.key.clone(), value).await.map(drop)
    }

    async fn unit(&self, batch: &Batch) -> Result<()> {
        self.0.write(&batch.sets, Atomicity::Require).await.map(drop)
    }
}

/// The topic of the bench's feed events.
pub(crate) const TOPIC: &str = "bench";

/// Where a unit's feed events go ([`Units`]).
#[derive(Clone, Copy)]
pub(crate) enum Events {
    /// None: the batch's sets.
    No,
    /// The batch's sets and one event.
    One,
    /// One event per key of the batch, in place of its sets.
    Instead,
}

/// An adapter's units built as an application builds them (`db.atomic()…`), with or without
/// feed events: the two sides of the feed's costs. Only `unit` is measured.
pub(crate) struct Units(pub(crate) Adapter, pub(crate) Events);

#[async_trait::async_trait]
impl Store for Units {
    async fn get(&self, item: &Item) -> Result<bool> {
        self.0.get(item).await
    }

    async fn get_many(&self, batch: &Batch) -> Result<usize> {
        self.0.get_many(batch).await
    }

    async fn list(&self, start: &Item, end: &Item, limit: usize) -> Result<usize> {
        self.0.list(start, end, limit).await
    }

    async fn put(&self, item: &Item, value: &[u8]) -> Result<()> {
        self.0.put(item, value).await
    }

    async fn unit(&self, batch: &Batch) -> Result<()> {
        let unit = self.0.0.atomic().require_atomic();
        let unit = match self.1 {
            Events::No => unit.ops(batch.sets.iter().cloned()),
            Events::One => unit.ops(batch.sets.iter().cloned()).emit(TOPIC, batch.value.as_slice()),
            Events::Instead => batch
                .items
                .iter()
                .fold(unit, |unit, _| unit.emit(TOPIC, batch.value.as_slice())),
        };
        unit.commit().await.map(drop)
    }
}
