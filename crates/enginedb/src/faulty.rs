//! `Faulty`: a store whose backend fails at the Nth write op, so atomicity is proved under a
//! real mid-unit failure and not only under failed checks.

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
/// each op of a batch) and makes the backend itself fail op number `fail_at` (1-based): that op
/// is replaced by a [`poison`] precondition that no store can satisfy, sent in the same call
/// after the ops before it, and the store's `CheckFailed` for it is reported as an
/// `Error::Backend` wrapping [`InjectedFault`]. A transaction or batch therefore fails at that
/// op *inside the backend*, after executing the ops before it; a store that ignores the failure
/// answers `Ok`, which `Faulty` passes on so the suite sees the missing writes. Reads pass
/// through uncounted.
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

/// The op sent in place of the failing one: a `Check` that a key holds [`Version::PENDING`],
/// a version no commit ever has.
pub fn poison() -> Write {
    Write::check(crate::key!["enginedb-faulty", "poison"], Some(Version::PENDING))
}

/// Maps the store's answer to `ops` (ending with the poison at `index`) to the injected fault.
fn injected<T>(result: Result<T>, index: usize, fail_at: usize) -> Result<T> {
    match result {
        Err(Error::CheckFailed { index: failed }) if failed == index => {
            Err(Error::backend("faulty", InjectedFault(fail_at)))
        }
        other => other,
    }
}

/// `ops` up to `passing`, then the poison.
fn poisoned(ops: &[Write], passing: usize) -> Vec<Write> {
    let mut sent: Vec<Write> = ops.iter().take(passing).cloned().collect();
    sent.push(poison());
    sent
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
            Some(_) => injected(self.inner.write(&poison()).await, 0, self.fail_at),
            None => self.inner.write(op).await,
        }
    }
    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        self.inner.transactions().map(|_| self as &dyn TransactionCapability)
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
            Some(passing) => injected(
                batches.apply_batch(&poisoned(ops, passing)).await,
                passing,
                self.fail_at,
            ),
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
            Some(passing) => injected(self.inner.apply(&poisoned(ops, passing)).await, passing, self.fail_at),
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
