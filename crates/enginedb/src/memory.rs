//! `MemoryDb`: the in-process reference adapter, with both capabilities.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::lock::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::Result;
use crate::key::Key;
use crate::model::{Entry, ListOptions, Page, Selector, Write};
use crate::port::{
    AdapterInfo, BatchCapability, EncodedWrite, EngineDb, EngineTx, ListPlan, State, Stored, TransactionCapability,
    apply_unit, scan,
};
use crate::testing::RawRow;
use crate::validate::validate_namespace;
use crate::version::Version;

/// An in-memory store: the reference semantics every adapter must match.
///
/// Clones share the data. Writers (plain writes, batches, transactions) take one writer lock
/// in turn, so a transaction is serializable and a write issued while it is open waits for it
/// and never joins it; reads see committed data only and never wait for a writer. A
/// transaction works on a copy of its namespace taken at `begin` (O(n) in the namespace's
/// size: this adapter is for tests and examples, not for large data).
#[derive(Clone, Debug)]
pub struct MemoryDb {
    shared: Arc<Shared>,
    namespace: String,
}

#[derive(Debug, Default)]
struct Shared {
    data: Mutex<Data>,
    writer: Arc<AsyncMutex<()>>,
}

#[derive(Debug, Default)]
struct Data {
    last_version: u64,
    spaces: HashMap<String, State>,
}

impl Default for MemoryDb {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryDb {
    /// An empty store (the default namespace).
    pub fn new() -> Self {
        MemoryDb {
            shared: Arc::default(),
            namespace: String::new(),
        }
    }

    /// A handle on namespace `name` of the same store: same versions, separate keys.
    ///
    /// # Errors
    /// `InvalidInput` unless `name` is a strict identifier (see
    /// [`crate::port::validate_namespace`]).
    pub fn namespace(&self, name: &str) -> Result<MemoryDb> {
        validate_namespace(name)?;
        Ok(MemoryDb {
            shared: self.shared.clone(),
            namespace: name.to_owned(),
        })
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        // No code path panics while holding the lock; if one ever did, the data it guards is
        // still consistent (every mutation is a whole `apply_unit`), so poisoning is ignored.
        self.shared.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let data = self.data();
        match data.spaces.get(&self.namespace) {
            Some(state) => f(state),
            None => f(&State::new()),
        }
    }

    /// Applies a validated unit as one commit. The caller holds the writer lock.
    fn commit_unit(&self, ops: &[Write]) -> Result<Version> {
        let mut data = self.data();
        let version = Version(data.last_version + 1);
        let ops = EncodedWrite::unit(ops)?;
        apply_unit(data.spaces.entry(self.namespace.clone()).or_default(), &ops, version)?;
        data.last_version = version.0;
        Ok(version)
    }

    /// Writes `rows` into this handle's namespace as they are, replacing what their keys held:
    /// the hook of [`crate::testing::tamper_memory`]. Draws no version.
    pub(crate) fn put_raw(&self, rows: &[RawRow]) -> Result<()> {
        let rows = rows
            .iter()
            .map(|row| {
                let stored = Stored {
                    value: row.value.clone(),
                    version: Version(row.unsigned_version()?),
                };
                Ok((row.key.clone(), stored))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut data = self.data();
        data.spaces.entry(self.namespace.clone()).or_default().extend(rows);
        Ok(())
    }
}

/// The entry at `key` in `state`.
///
/// # Errors
/// `Corrupt` for a stored version no commit has.
fn get_from(state: &State, key: &Key) -> Result<Option<Entry>> {
    state
        .get(key.as_bytes())
        .map(|s| {
            Ok(Entry {
                key: key.clone(),
                value: s.value.clone(),
                version: Version::stored(s.version.0)?,
            })
        })
        .transpose()
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl EngineDb for MemoryDb {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new("memory")
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        self.read(|state| get_from(state, key))
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.read(|state| keys.iter().map(|k| get_from(state, k)).collect())
    }

    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        plan.page(self.read(|state| scan(state, &plan))?)
    }

    async fn write(&self, op: &Write) -> Result<Version> {
        let ops = std::slice::from_ref(op);
        let _writer = self.shared.writer.lock().await;
        self.commit_unit(ops)
    }

    /// Sleeps on a timer thread (off wasm32; there it only yields).
    async fn pause(&self, duration: Duration) {
        #[cfg(not(target_arch = "wasm32"))]
        futures_timer::Delay::new(duration).await;
        #[cfg(target_arch = "wasm32")]
        {
            let _ = duration;
            crate::port::YieldNow::default().await;
        }
    }

    async fn advance_version(&self, past: Version) -> Result<()> {
        let mut data = self.data();
        data.last_version = data.last_version.max(past.0);
        Ok(())
    }

    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        Some(self)
    }

    fn batches(&self) -> Option<&dyn BatchCapability> {
        Some(self)
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl BatchCapability for MemoryDb {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        let _writer = self.shared.writer.lock().await;
        self.commit_unit(ops)
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl TransactionCapability for MemoryDb {
    async fn begin(&self) -> Result<Box<dyn EngineTx>> {
        let writer = self.shared.writer.clone().lock_owned().await;
        let snapshot = self.read(Clone::clone);
        Ok(Box::new(MemoryTx {
            db: self.clone(),
            _writer: writer,
            snapshot,
            written: BTreeSet::new(),
            stamped: Vec::new(),
        }))
    }

    /// The batch path: the same serializable, all-or-nothing commit without a session.
    async fn run_unit(&self, ops: &[Write]) -> Result<Version> {
        self.apply_batch(ops).await
    }
}

/// A transaction: holds the writer lock (released on drop) and works on a private copy.
struct MemoryTx {
    db: MemoryDb,
    _writer: OwnedMutexGuard<()>,
    snapshot: State,
    written: BTreeSet<Vec<u8>>,
    /// The versionstamped writes, made at commit (their keys hold its version).
    stamped: Vec<EncodedWrite>,
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl EngineTx for MemoryTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        get_from(&self.snapshot, key)
    }

    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        keys.iter().map(|k| get_from(&self.snapshot, k)).collect()
    }

    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        plan.page(scan(&self.snapshot, &plan)?)
    }

    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        let ops = EncodedWrite::unit(ops)?;
        // The core sends a transaction's versionstamped writes in an `apply` of their own.
        if ops
            .iter()
            .all(|op| matches!(op, EncodedWrite::SetVersionstamped { .. }))
        {
            self.stamped.extend(ops);
            return Ok(());
        }
        let written = apply_unit(&mut self.snapshot, &ops, Version::PENDING)?;
        self.written.extend(written);
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<Version> {
        let MemoryTx {
            db,
            _writer,
            mut snapshot,
            written,
            stamped,
        } = *self;
        let mut data = db.data();
        let version = Version(data.last_version + 1);
        for key in &written {
            if let Some(stored) = snapshot.get_mut(key) {
                stored.version = version;
            }
        }
        apply_unit(&mut snapshot, &stamped, version)?;
        data.spaces.insert(db.namespace.clone(), snapshot);
        data.last_version = version.0;
        Ok(version)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
