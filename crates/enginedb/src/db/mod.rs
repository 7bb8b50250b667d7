//! [`Db`]: the handle applications hold (DESIGN §4). It validates every request, encodes keys,
//! applies the retry policy and opens the tracing span of each operation, once, for every
//! adapter.

pub(crate) mod atomic;
pub(crate) mod feed;
pub(crate) mod list;
pub(crate) mod queue;
pub(crate) mod transaction;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::Instrument;

use crate::clock::{Clock, SystemClock};
use crate::commit::{Atomicity, Commit};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::library;
use crate::model::{Entry, ListOptions, Page, Selector, Write};
use crate::port::{AdapterInfo, Capabilities, EngineDb, ListPlan};
use crate::resolve::{resolve, write_one};
use crate::retry::RetryPolicy;
use crate::validate::{validate_key, validate_keys};
use crate::value::Value;
use crate::version::Version;

/// A store, whichever adapter is behind it: a cheap [`Clone`] handle over one shared store.
///
/// Every adapter's handle converts into one (`Db::from(SqliteDb)`), and
/// `enginedb_open::open(url)` returns one, so code written against `Db` switches backends by
/// changing only how the store is opened.
///
/// ```
/// use enginedb::{Db, MemoryDb, Selector, key};
///
/// # futures::executor::block_on(async {
/// let db = Db::from(MemoryDb::new());
/// let commit = db
///     .atomic()
///     .check_absent(key!["msg", 1])
///     .set(key!["msg", 1], "hello")
///     .set(key!["delivery", "bob", 1], "unread")
///     .sum(key!["count", "msgs"], 1)
///     .commit()
///     .await?;
/// assert!(commit.mode.is_atomic());
///
/// let count = db.get(&key!["count", "msgs"]).await?.and_then(|e| e.value.as_i64());
/// assert_eq!(count, Some(1));
/// let page = db.list(Selector::prefix(key!["delivery", "bob"])).limit(10).page().await?;
/// assert_eq!(page.entries.len(), 1);
/// # Ok::<(), enginedb::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Db {
    shared: Arc<Shared>,
    retry: RetryPolicy,
    /// Whether this handle sees and writes the library's own keys.
    library: bool,
    /// What queues read the time from.
    clock: Arc<dyn Clock>,
}

struct Shared {
    store: Arc<dyn EngineDb>,
    name: String,
    read_only: bool,
    /// Set by the first `close`: every later call is refused.
    closed: AtomicBool,
    /// Whether the store has been closed, for the `close` calls themselves: held while one
    /// closes, so the others wait for it (and try again if it failed).
    closing: futures::lock::Mutex<bool>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("adapter", &self.shared.name)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl<D: EngineDb + 'static> From<D> for Db {
    fn from(store: D) -> Db {
        Db::from_port(Arc::new(store))
    }
}

impl Db {
    /// A handle on an adapter behind the port, with the default [`RetryPolicy`].
    pub fn from_port(store: Arc<dyn EngineDb>) -> Db {
        let AdapterInfo { name, read_only, .. } = store.info();
        Db {
            shared: Arc::new(Shared {
                store,
                name,
                read_only,
                closed: AtomicBool::new(false),
                closing: futures::lock::Mutex::new(false),
            }),
            retry: RetryPolicy::default(),
            library: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// This handle with `policy` for its units and transactions (other clones keep theirs).
    #[must_use]
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Db {
        self.retry = policy;
        self
    }

    /// This handle, for dump and restore tools: its lists include the keys the library keeps
    /// for its own data (feeds: first part starting with `"\0enginedb"`), and its writes may go
    /// there. Applications never need it; other clones keep skipping those keys.
    #[must_use]
    pub fn with_library_keys(mut self) -> Db {
        self.library = true;
        self
    }

    /// This handle, reading the time from `clock` (queues: when a message is ready, when a
    /// lease ends) instead of the machine's; other clones keep theirs. For tests and
    /// simulations ([`crate::ManualClock`]).
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Db {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock this handle reads.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Waits about `duration` as the store's runtime does (the core has no timer).
    pub(crate) async fn pause(&self, duration: Duration) {
        self.shared.store.pause(duration).await;
    }

    /// Refuses, unless this handle may, an application's write into the library's keys.
    pub(crate) fn refuse_library(&self, op: &Write) -> Result<()> {
        if self.library { Ok(()) } else { library::refuse(op) }
    }

    /// Whether this handle sees and writes the library's own keys.
    pub(crate) fn sees_library(&self) -> bool {
        self.library
    }

    /// The retry policy of this handle.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The adapter's name and limits.
    pub fn info(&self) -> AdapterInfo {
        self.shared.store.info()
    }

    /// Whether the store has interactive transactions and atomic batches.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities::of(&*self.shared.store)
    }

    /// The adapter behind this handle, for tools that work at the port (adapter authors,
    /// the conformance suite). Requests made there skip the checks `Db` makes.
    pub fn port(&self) -> &Arc<dyn EngineDb> {
        &self.shared.store
    }

    /// The store, unless this handle was closed.
    fn store(&self) -> Result<&Arc<dyn EngineDb>> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(&self.shared.store)
    }

    /// The store, unless this handle was closed or its store opened read-only: for writes.
    fn writable(&self) -> Result<&Arc<dyn EngineDb>> {
        let store = self.store().map_err(Error::on_write)?;
        if self.shared.read_only {
            return Err(Error::read_only(&self.shared.name));
        }
        Ok(store)
    }

    /// The adapter's name if its store was opened read-only: a transaction's writes are
    /// refused.
    pub(crate) fn read_only_adapter(&self) -> Option<&str> {
        self.shared.read_only.then_some(self.shared.name.as_str())
    }

    fn span(&self, operation: &'static str) -> tracing::Span {
        tracing::debug_span!("enginedb", op = operation, adapter = %self.shared.name)
    }

    /// The entry at `key`, or `None`.
    ///
    /// # Errors
    /// `InvalidInput` (the empty key) or `LimitExceeded` for a key that could never be stored;
    /// `Corrupt` for stored bytes that do not decode; the store's errors (`Unavailable`,
    /// `Busy`, `Closed`, `Backend`).
    pub async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let store = self.store()?;
        validate_key(key)?;
        store.get(key).instrument(self.span("get")).await
    }

    /// The entries at `keys`, in argument order (duplicates allowed), from one snapshot and in
    /// one round trip where the backend allows.
    ///
    /// # Errors
    /// As [`Db::get`], and `LimitExceeded` for more than [`crate::limits::MAX_GET_MANY`] keys.
    pub async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let store = self.store()?;
        validate_keys(keys)?;
        store.get_many(keys).instrument(self.span("get_many")).await
    }

    /// One page, for [`crate::List`].
    pub(crate) async fn page(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let store = self.store()?;
        ListPlan::new(selector, options)?;
        store.list(selector, options).instrument(self.span("list")).await
    }

    /// Runs `ops` as one unit: the resolver ([`crate::run_atomic_writes`]) under this handle's
    /// retry policy. [`Db::atomic`] builds the same unit op by op.
    ///
    /// # Errors
    /// As [`crate::Atomic::commit`].
    pub async fn write(&self, ops: &[Write], atomicity: Atomicity) -> Result<Commit> {
        ops.iter().try_for_each(|op| self.refuse_library(op))?;
        self.write_with(ops, atomicity, &self.retry).await
    }

    pub(crate) async fn write_with(&self, ops: &[Write], atomicity: Atomicity, policy: &RetryPolicy) -> Result<Commit> {
        let store = self.writable()?;
        resolve(&**store, ops, atomicity, policy)
            .instrument(self.span("write"))
            .await
    }

    /// Sets `key` to `value`, as a unit of one op; returns the commit's version.
    ///
    /// # Errors
    /// As [`crate::Atomic::commit`].
    pub async fn set(&self, key: Key, value: impl Into<Value>) -> Result<Version> {
        self.write_one(Write::set(key, value)).await
    }

    /// Deletes `key` (absent is fine), as a unit of one op; returns the commit's version.
    ///
    /// # Errors
    /// As [`crate::Atomic::commit`].
    pub async fn delete(&self, key: Key) -> Result<Version> {
        self.write_one(Write::delete(key)).await
    }

    /// Applies one op by itself; returns the commit's version.
    ///
    /// # Errors
    /// As [`crate::Atomic::commit`].
    pub async fn write_one(&self, op: Write) -> Result<Version> {
        let store = self.writable()?;
        self.refuse_library(&op)?;
        write_one(&**store, &op, &self.retry)
            .instrument(self.span("write"))
            .await
    }

    /// Makes every later commit's version larger than `past`: for restore tools, after
    /// writing a dump whose versionstamped keys (feed events, queued messages) carry the
    /// versions of the store it came from, so what is written afterwards sorts after them.
    /// Nothing changes when versions are already past it (always so for 0).
    ///
    /// # Errors
    /// `InvalidInput`, nothing changed, for a version above [`Version::MAX_ADVANCE`] (the
    /// store would soon run out of versions and refuse every write); `Unsupported` on a
    /// read-only store or an adapter without it; the store's errors.
    pub async fn advance_version(&self, past: Version) -> Result<()> {
        let store = self.writable()?;
        if past > Version::MAX_ADVANCE {
            return Err(Error::invalid(format!(
                "version {past} is above {}: the store would soon have no versions left to give its commits",
                Version::MAX_ADVANCE
            )));
        }
        if past == Version::ZERO {
            return Ok(());
        }
        store
            .advance_version(past)
            .instrument(self.span("advance_version"))
            .await
    }

    /// Flushes and shuts the store down cleanly (SQLite checkpoints its WAL; redb needs no
    /// repair on the next open). Every clone of this handle is closed with it: later calls fail
    /// with `Closed`. Closing twice is fine; a second call made while the first is under way
    /// waits for it. Without `close`, dropping the last handle lets the adapter shut down as
    /// best it can, unable to report a failure.
    ///
    /// # Errors
    /// The store's, when it could not flush or release everything (what was committed stays
    /// committed; the handle is closed all the same).
    pub async fn close(&self) -> Result<()> {
        self.shared.closed.store(true, Ordering::Release);
        let mut closed = self.shared.closing.lock().await;
        if !*closed {
            self.shared.store.close().instrument(self.span("close")).await?;
            *closed = true;
        }
        Ok(())
    }
}
