//! `Faulty`: a store whose backend fails at the Nth write op or the Nth read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::key::Key;
use crate::model::{Entry, ListOptions, Page, Selector, Write};
use crate::port::{AdapterInfo, BatchCapability, EngineDb, EngineTx, TransactionCapability};
use crate::version::Version;

/// The error a [`Faulty`] store injects, wrapped in `Error::Backend`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InjectedFault {
    /// At write op number N (1-based).
    #[error("fault injected at write op {0}")]
    Write(usize),
    /// At read number N (1-based).
    #[error("fault injected at read {0}")]
    Read(usize),
}

/// `inner`, failing at one write op and/or one read.
///
/// **Writes**: every write op sent to `inner` is counted (a plain write, each op applied in a
/// transaction, each op of a batch), and op number `N` makes the backend itself fail: it is
/// replaced by a precondition no store can satisfy, sent in the same call after the ops before
/// it, and the store's `CheckFailed` for it is reported as `Error::Backend` wrapping
/// [`InjectedFault::Write`]. A transaction or batch therefore fails at that op *inside the
/// backend*, after executing the ops before it; a store that ignores the failure answers `Ok`,
/// which `Faulty` passes on so a test sees the missing writes.
///
/// **Reads**: every `get`, `get_many` and `list` call (in a transaction too) is counted, and
/// call number `N` fails with `Error::Backend` wrapping [`InjectedFault::Read`] instead of
/// reaching `inner`.
#[derive(Clone, Debug)]
pub struct Faulty<D> {
    inner: D,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    fail_write: usize,
    fail_read: usize,
    writes: AtomicUsize,
    reads: AtomicUsize,
}

impl Counters {
    /// Counts `n` write ops; returns how many of them may pass before the fault, or `None` if
    /// all may.
    fn admit_writes(&self, n: usize) -> Option<usize> {
        let before = self.writes.fetch_add(n, Ordering::SeqCst);
        (self.fail_write > before && self.fail_write <= before + n).then(|| self.fail_write - before - 1)
    }

    /// Counts one read; the injected fault if it is the one to fail.
    fn admit_read(&self) -> Result<()> {
        let read = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
        if read == self.fail_read {
            return Err(Error::backend("faulty", InjectedFault::Read(read)));
        }
        Ok(())
    }

    /// Maps the store's answer to ops ending with the poison at `index` to the injected fault.
    fn injected<T>(&self, result: Result<T>, index: usize) -> Result<T> {
        match result {
            Err(Error::CheckFailed { index: failed, .. }) if failed == index => {
                Err(Error::backend("faulty", InjectedFault::Write(self.fail_write)))
            }
            other => other,
        }
    }
}

impl<D: EngineDb> Faulty<D> {
    /// Wraps `inner`, failing nothing until told to.
    pub fn new(inner: D) -> Self {
        Faulty {
            inner,
            counters: Arc::default(),
        }
    }

    fn counters(mut self, edit: impl FnOnce(&mut Counters)) -> Self {
        let mut counters = Counters {
            fail_write: self.counters.fail_write,
            fail_read: self.counters.fail_read,
            ..Counters::default()
        };
        edit(&mut counters);
        self.counters = Arc::new(counters);
        self
    }

    /// Fails write op number `n` (1-based; 0: none), counting from now.
    #[must_use]
    pub fn fail_write(self, n: usize) -> Self {
        self.counters(|c| c.fail_write = n)
    }

    /// Fails read number `n` (1-based; 0: none), counting from now.
    #[must_use]
    pub fn fail_read(self, n: usize) -> Self {
        self.counters(|c| c.fail_read = n)
    }

    /// Write ops counted so far (the failed one included).
    pub fn writes_sent(&self) -> usize {
        self.counters.writes.load(Ordering::SeqCst)
    }

    /// Reads counted so far (the failed one included).
    pub fn reads_made(&self) -> usize {
        self.counters.reads.load(Ordering::SeqCst)
    }
}

/// The op sent in place of the failing one: a `Check` that a key holds [`Version::PENDING`],
/// a version no commit ever has.
fn poison() -> Write {
    Write::check(crate::key!["enginedb-faulty", "poison"], Some(Version::PENDING))
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
        self.counters.admit_read()?;
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.counters.admit_read()?;
        self.inner.get_many(keys).await
    }
    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        self.counters.admit_read()?;
        self.inner.list(selector, options).await
    }
    async fn write(&self, op: &Write) -> Result<Version> {
        match self.counters.admit_writes(1) {
            Some(_) => self.counters.injected(self.inner.write(&poison()).await, 0),
            None => self.inner.write(op).await,
        }
    }
    async fn advance_version(&self, past: Version) -> Result<()> {
        self.inner.advance_version(past).await
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
    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<D: EngineDb> TransactionCapability for Faulty<D> {
    async fn begin(&self) -> Result<Box<dyn EngineTx>> {
        let transactions = self.inner.transactions().ok_or(Error::Closed)?;
        Ok(Box::new(FaultyTx {
            inner: transactions.begin().await?,
            counters: self.counters.clone(),
        }))
    }

    /// The inner store's own path for a unit (say, its group commit), failing like `begin`,
    /// `apply`, `commit` would.
    async fn run_unit(&self, ops: &[Write]) -> Result<Version> {
        let transactions = self.inner.transactions().ok_or(Error::Closed)?;
        match self.counters.admit_writes(ops.len()) {
            Some(passing) => {
                let answer = transactions.run_unit(&poisoned(ops, passing)).await;
                self.counters.injected(answer, passing)
            }
            None => transactions.run_unit(ops).await,
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<D: EngineDb> BatchCapability for Faulty<D> {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        let batches = self.inner.batches().ok_or(Error::Closed)?;
        match self.counters.admit_writes(ops.len()) {
            Some(passing) => {
                let answer = batches.apply_batch(&poisoned(ops, passing)).await;
                self.counters.injected(answer, passing)
            }
            None => batches.apply_batch(ops).await,
        }
    }
}

struct FaultyTx {
    inner: Box<dyn EngineTx>,
    counters: Arc<Counters>,
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl EngineTx for FaultyTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        self.counters.admit_read()?;
        self.inner.get(key).await
    }
    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.counters.admit_read()?;
        self.inner.get_many(keys).await
    }
    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        self.counters.admit_read()?;
        self.inner.list(selector, options).await
    }
    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        match self.counters.admit_writes(ops.len()) {
            Some(passing) => {
                let answer = self.inner.apply(&poisoned(ops, passing)).await;
                self.counters.injected(answer, passing)
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
