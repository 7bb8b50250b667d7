//! A raw driver read the way the SQLite and redb adapters must read: they keep blocking
//! drivers off the async executor (DESIGN §6), so each read is a job sent to an
//! `enginedb_kit::blocking::Worker` thread and an answer sent back, which a raw driver called on
//! the caller does not pay. Timed in the same samples as the adapter and the raw driver, so the
//! report can say how much of a point read's ratio that hop is.

use std::sync::Arc;

use enginedb::{Error, Key, Result};
use enginedb_kit::blocking::Worker;
use futures::FutureExt;

use super::store::{Batch, Item, Store};

/// A raw driver whose point gets run on a worker thread of their own; only point gets are
/// measured this way.
pub(crate) struct OnThread(Worker<Arc<dyn Store>>);

impl OnThread {
    /// Starts the thread that will call `raw`.
    ///
    /// # Errors
    /// `Backend` when the thread cannot be started.
    pub(crate) fn spawn(raw: Arc<dyn Store>) -> Result<OnThread> {
        Worker::spawn("enginedb-bench-raw", vec![raw]).map(OnThread)
    }
}

/// Only point gets run on the thread.
fn unsupported<T>() -> Result<T> {
    Err(Error::Unsupported {
        operation: "anything but a point get",
        adapter: "raw driver on a thread".into(),
    })
}

#[async_trait::async_trait]
impl Store for OnThread {
    async fn get(&self, item: &Item) -> Result<bool> {
        // The encoded key is all a raw driver reads: it alone crosses to the thread.
        let bytes = item.bytes.clone();
        self.0
            .run(move |raw| {
                let item = Item {
                    key: Key::default(),
                    bytes,
                };
                // The raw drivers never wait (they block), so one poll completes the read.
                raw.get(&item)
                    .now_or_never()
                    .unwrap_or_else(|| Err(Error::invalid("a raw driver's read waited: it cannot run on a thread")))
            })
            .await
    }

    async fn get_many(&self, _batch: &Batch) -> Result<usize> {
        unsupported()
    }

    async fn list(&self, _start: &Item, _end: &Item, _limit: usize) -> Result<usize> {
        unsupported()
    }

    async fn put(&self, _item: &Item, _value: &[u8]) -> Result<()> {
        unsupported()
    }

    async fn unit(&self, _batch: &Batch) -> Result<()> {
        unsupported()
    }
}

#[cfg(test)]
mod tests {
    use enginedb::key;

    use super::*;
    use crate::bench::raw::RawMemory;

    #[tokio::test]
    async fn reads_the_raw_driver_on_its_thread() {
        let raw: Arc<dyn Store> = Arc::new(RawMemory::default());
        let present = Item::new(key!["bench", "data", 1]);
        raw.put(&present, b"v").await.expect("put");
        let on_thread = OnThread::spawn(raw).expect("spawn");
        assert!(on_thread.get(&present).await.expect("get"));
        assert!(!on_thread.get(&Item::new(key!["bench", "data", 2])).await.expect("get"));
        assert!(on_thread.put(&present, b"v").await.is_err(), "only point gets");
    }
}
