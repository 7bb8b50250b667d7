//! `Masked`: a store with some of its capabilities hidden, so every adapter can be run (and
//! proved) in transaction, batch and sequential mode.

use std::time::Duration;

use crate::error::Result;
use crate::key::Key;
use crate::model::{Entry, ListOptions, Page, Selector, Write};
use crate::port::{AdapterInfo, BatchCapability, EngineDb, TransactionCapability};
use crate::version::Version;

/// Which capabilities a [`Masked`] store still shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mask {
    /// Hide nothing.
    Native,
    /// Hide transactions: units run as batches, `transact` runs optimistically.
    BatchOnly,
    /// Hide transactions and batches: units run sequentially.
    SequentialOnly,
}

impl Mask {
    /// The three masks, strongest first.
    pub const ALL: [Mask; 3] = [Mask::Native, Mask::BatchOnly, Mask::SequentialOnly];

    /// A short name: `native`, `batch-only`, `sequential-only`.
    pub fn name(self) -> &'static str {
        match self {
            Mask::Native => "native",
            Mask::BatchOnly => "batch-only",
            Mask::SequentialOnly => "sequential-only",
        }
    }
}

/// `inner` with the capabilities `mask` hides made invisible; everything else passes through.
#[derive(Clone, Debug)]
pub struct Masked<D> {
    inner: D,
    mask: Mask,
}

impl<D: EngineDb> Masked<D> {
    /// Wraps `inner`.
    pub fn new(inner: D, mask: Mask) -> Self {
        Masked { inner, mask }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &D {
        &self.inner
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<D: EngineDb> EngineDb for Masked<D> {
    fn info(&self) -> AdapterInfo {
        let info = self.inner.info();
        AdapterInfo {
            name: format!("{} ({})", info.name, self.mask.name()),
            ..info
        }
    }
    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.inner.get_many(keys).await
    }
    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        self.inner.list(selector, options).await
    }
    async fn write(&self, op: &Write) -> Result<Version> {
        self.inner.write(op).await
    }
    async fn advance_version(&self, past: Version) -> Result<()> {
        self.inner.advance_version(past).await
    }
    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        match self.mask {
            Mask::Native => self.inner.transactions(),
            Mask::BatchOnly | Mask::SequentialOnly => None,
        }
    }
    fn batches(&self) -> Option<&dyn BatchCapability> {
        match self.mask {
            Mask::Native | Mask::BatchOnly => self.inner.batches(),
            Mask::SequentialOnly => None,
        }
    }
    async fn pause(&self, duration: Duration) {
        self.inner.pause(duration).await
    }
    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}
