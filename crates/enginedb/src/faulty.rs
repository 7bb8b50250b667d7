//! `Faulty`: a store that fails the Nth write op sent to it, so atomicity is proved under real
//! mid-unit failure and not only under failed checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::key::Key;
use crate::model::{Entry, ListOptions, Page, Selector, Version, Write};
use crate::port::{AdapterInfo, BatchCapability, EngineDb, EngineTx, TransactionCapability};

/// The error a [`Faulty`] store injects.
#[derive(Debug, thiserror::Error)]
#[error("fault injected at write op {0}")]
pub struct InjectedFault(pub usize);

/// Counts every write op sent to `inner` (a plain write, each op applied in a transaction,
/// each op of a batch) and fails op number `fail_at` (1-based) with an `Error::Backend`
/// wrapping [`InjectedFault`]. The op is not forwarded: a transaction gets the error before it
/// applies the op, a batch containing it fails whole. Reads pass through uncounted.
#[derive(Clone, Debug)]
pub struct Faulty<D> {
    inner: D,
    fail_at: usize,
    sent: Arc<AtomicUsize>,
}

impl<D: EngineDb> Faulty<D> {
    /// Wraps `inner`; `fail_at` = 0 never fails.
    pub fn new(inner: D, fail_at: usize) -> Self {
        Faulty {
            inner,
            fail_at,
            sent: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Write ops counted so far (the failed one included).
    pub fn ops_sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }
}

/// Counts `n` ops; returns how many of them may pass before the fault, or `None` if all may.
fn admit(sent: &AtomicUsize, fail_at: usize, n: usize) -> Option<usize> {
    let before = sent.fetch_add(n, Ordering::SeqCst);
    (fail_at > before && fail_at <= before + n).then(|| fail_at - before - 1)
}

fn fault(fail_at: usize) -> Error {
    Error::backend("faulty", InjectedFault(fail_at))
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<D: EngineDb> EngineDb for Faulty<D> {
    fn info(&self) -> AdapterInfo {
        self.inner.info()
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
        match admit(&self.sent, self.fail_at, 1) {
            Some(_) => Err(fault(self.fail_at)),
            None => self.inner.write(op).await,
        }
    }
    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        self.inner
            .transactions()
            .map(|_| self as &dyn TransactionCapability)
    }
    fn batches(&self) -> Option<&dyn BatchCapability> {
        self.inner.batches().map(|_| self as &dyn BatchCapability)
    }
    async fn pause(&self, duration: Duration) {
        self.inner.pause(duration).await
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<D: EngineDb> TransactionCapability for Faulty<D> {
    async fn begin(&self) -> Result<Box<dyn EngineTx>> {
        let transactions = self.inner.transactions().ok_or(Error::Closed)?;
        Ok(Box::new(FaultyTx {
            inner: transactions.begin().await?,
            fail_at: self.fail_at,
            sent: self.sent.clone(),
        }))
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<D: EngineDb> BatchCapability for Faulty<D> {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        let batches = self.inner.batches().ok_or(Error::Closed)?;
        match admit(&self.sent, self.fail_at, ops.len()) {
            Some(_) => Err(fault(self.fail_at)),
            None => batches.apply_batch(ops).await,
        }
    }
}

struct FaultyTx {
    inner: Box<dyn EngineTx>,
    fail_at: usize,
    sent: Arc<AtomicUsize>,
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl EngineTx for FaultyTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        self.inner.get(key).await
    }
    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.inner.get_many(keys).await
    }
    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        self.inner.list(selector, options).await
    }
    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        match admit(&self.sent, self.fail_at, ops.len()) {
            Some(passing) => {
                self.inner
                    .apply(ops.get(..passing).unwrap_or_default())
                    .await?;
                Err(fault(self.fail_at))
            }
            None => self.inner.apply(ops).await,
        }
    }
    async fn commit(self: Box<Self>) -> Result<Version> {
        self.inner.commit().await
    }
    async fn rollback(self: Box<Self>) -> Result<()> {
        self.inner.rollback().await
    }
}
