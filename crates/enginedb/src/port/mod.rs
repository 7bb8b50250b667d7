//! The port, for adapter authors: what an adapter implements so that applications can hold
//! it as a [`crate::Db`] (DESIGN §5).
//!
//! An adapter implements [`EngineDb`] — `get_many`, `list`, `write` and `info` — and offers
//! [`TransactionCapability`] and/or [`BatchCapability`] where its backend has them. Everything
//! the core can derive, it derives: the capability flags from those two `Option`s, `get` from
//! `get_many`, and all validation. **Input reaching the port was validated by the core**: keys
//! are non-empty and at most [`crate::limits::MAX_KEY_BYTES`] encoded, units respect every
//! limit, selectors and list options are well-formed ([`ListPlan::new`] turns them into a span
//! of encoded keys). Adapters still never panic, whatever they are given or read back.
//!
//! The core retries, opens the tracing span of each operation and names the key of a failed
//! check: an adapter reports `Error::check_failed(index)` and maps its driver errors to the
//! kinds of [`crate::Error`] in one place — `Conflict`/`Busy` only when nothing was written,
//! `OutcomeUnknown` when a commit may have happened, `Unavailable` when the backend cannot be
//! reached.
//!
//! [`apply_ops`] is the one implementation of what the write ops mean, over any [`OrderedKv`]:
//! adapters over a key-value engine run units through it; [`UndoLog`] undoes one unit inside
//! a transaction that others share (group commit).
//!
//! A versionstamped write ([`EncodedWrite::SetVersionstamped`]) is a set whose key is its
//! prefix followed by [`versionstamp`]`(version, n)`: the commit's version and `n`, the number
//! of versionstamped writes before it in that commit ([`stamped_keys`] counts them). An adapter
//! that knows the version before it writes (SQLite, redb) appends it there; one that draws the
//! version at commit computes the key in the same statement. The core's `Tx` sends a
//! transaction's versionstamped writes in an `apply` of their own, its last, just before
//! `commit`, so counting them per call counts them per commit. [`TransactionCapability::run_unit`]'s
//! default applies a whole unit, versionstamped writes among the others, in one `apply`: an
//! adapter whose transactions learn their version only at commit overrides it.

mod apply;
mod plan;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

pub(crate) use apply::{CounterOp, State, apply_unit, scan, update_counter};
pub use apply::{EncodedWrite, OrderedKv, Stored, UndoLog, apply_ops, stamped_keys};
pub use plan::ListPlan;
pub(crate) use plan::successor;

pub use crate::codec::{VERSIONSTAMP_LEN, int_part, versionstamp};
pub use crate::model::ListOptions;
pub use crate::validate::{op_size, unit_size, validate_namespace};

use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::Limits;
use crate::model::{Entry, Page, Selector, Write};
use crate::version::Version;

/// `Send + Sync` off wasm32; nothing on wasm32, where futures stay on one thread.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}
/// `Send + Sync` off wasm32; nothing on wasm32, where futures stay on one thread.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}

/// `Send` off wasm32; nothing on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
/// `Send` off wasm32; nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// Which optional capabilities a store offers, derived from
/// [`EngineDb::transactions`] and [`EngineDb::batches`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Interactive, serializable transactions ([`TransactionCapability`]).
    pub transactions: bool,
    /// Atomic batches of prebuilt ops ([`BatchCapability`]).
    pub batches: bool,
}

impl Capabilities {
    /// What `store` offers.
    pub fn of(store: &(impl EngineDb + ?Sized)) -> Capabilities {
        Capabilities {
            transactions: store.transactions().is_some(),
            batches: store.batches().is_some(),
        }
    }
}

/// What an adapter is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterInfo {
    /// Short adapter name, e.g. `"sqlite"`.
    pub name: String,
    /// Its limits; the same for every adapter.
    pub limits: Limits,
    /// The store was opened read-only: the core refuses every write (`Unsupported`, nothing
    /// written) before it reaches the adapter, and transactions may only read.
    pub read_only: bool,
}

impl AdapterInfo {
    /// The adapter `name`, writable, with the standard limits.
    pub fn new(name: impl Into<String>) -> AdapterInfo {
        AdapterInfo {
            name: name.into(),
            limits: Limits::STANDARD,
            read_only: false,
        }
    }

    /// This adapter, opened read-only when `read_only`.
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> AdapterInfo {
        self.read_only = read_only;
        self
    }
}

/// A key-value store behind the port.
///
/// # Contract
/// - Keys are stored in their encoded form; `list` returns them in encoded (= tuple) order.
/// - Every successful write gets one fresh [`Version`], larger than every version any reader
///   has seen; every key written by one commit carries that commit's version.
/// - Reads see only committed data.
/// - Input was validated by the core (see the [module docs](self)); errors are
///   [`crate::Error`]s; no method panics on any input or stored bytes.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait EngineDb: MaybeSendSync {
    /// The adapter's name and limits.
    fn info(&self) -> AdapterInfo;

    /// The entry at `key`, or `None`. By default one `get_many`; an adapter may override it
    /// with a faster path. Fails with `Corrupt` for undecodable stored bytes.
    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        Ok(self.get_many(std::slice::from_ref(key)).await?.pop().flatten())
    }

    /// The entries at `keys` (at most [`crate::limits::MAX_GET_MANY`]), in argument order
    /// (duplicates allowed), read in one round trip where the backend allows and from one
    /// consistent snapshot.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>>;

    /// One page of the keys `selector` covers; [`ListPlan::new`] says which and how.
    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page>;

    /// Applies one op atomically by itself and returns the version of its commit. Fails as a
    /// one-op unit would; on failure nothing was written (or `OutcomeUnknown`).
    async fn write(&self, op: &Write) -> Result<Version>;

    /// Makes every later commit's version larger than `past` (nothing changes when they
    /// already are), as one atomic step ordered with commits: for restoring a dump, whose
    /// versionstamped keys carry the versions of the store it came from. The core refuses it
    /// on a read-only store and for a `past` above `i64::MAX`. By default `Unsupported`.
    async fn advance_version(&self, past: Version) -> Result<()> {
        let _ = past;
        Err(Error::Unsupported {
            operation: "advance_version",
            adapter: self.info().name,
        })
    }

    /// Interactive transactions, if the adapter has them.
    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        None
    }

    /// Atomic batches, if the adapter has them.
    fn batches(&self) -> Option<&dyn BatchCapability> {
        None
    }

    /// Waits about `duration` before a retry. The default only yields once to the executor:
    /// the core knows no timer. Adapters that run on a runtime sleep.
    async fn pause(&self, duration: Duration) {
        let _ = duration;
        YieldNow::default().await;
    }

    /// Flushes and releases the store (checkpoints, files, connections), for `Db::close`,
    /// which refuses every later call itself. Handles sharing the store (its namespaces) may
    /// be closed with it; closing an already closed store is fine. By default nothing to do.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

/// Interactive serializable transactions.
///
/// # Contract
/// A transaction sees its own writes and the data committed before it; it commits as one unit
/// or not at all. Writes outside it never join it. Dropping it without `commit` rolls it back,
/// and an abandoned transaction never blocks the store for good.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait TransactionCapability: MaybeSendSync {
    /// Starts a transaction. May wait for another to finish; fails with `Busy` or `Closed`.
    async fn begin(&self) -> Result<Box<dyn EngineTx>>;

    /// Runs prebuilt `ops` as one serializable transaction that reads nothing on the caller's
    /// behalf; returns its version. By default: `begin`, `apply` (of every op, versionstamped
    /// writes included: see the [module docs](self)), `commit`. An adapter may
    /// override it with a shorter path of the same guarantee (e.g. its group-commit queue).
    async fn run_unit(&self, ops: &[Write]) -> Result<Version> {
        let mut tx = self.begin().await?;
        tx.apply(ops).await?;
        tx.commit().await
    }
}

/// One open interactive transaction.
///
/// # Contract
/// Reads return the transaction's own uncommitted writes with [`Version::PENDING`]. After any
/// error the transaction must be dropped or rolled back; further calls may fail with `Closed`.
/// A `Conflict` from any method means the whole transaction lost a race: retry it.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait EngineTx: MaybeSend {
    /// As [`EngineDb::get`], inside the transaction.
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>>;
    /// As [`EngineDb::get_many`], inside the transaction.
    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>>;
    /// As [`EngineDb::list`], inside the transaction.
    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page>;
    /// Applies `ops` in order inside the transaction; error indexes refer to `ops`.
    async fn apply(&mut self, ops: &[Write]) -> Result<()>;
    /// Commits; returns the version every write of the transaction got.
    async fn commit(self: Box<Self>) -> Result<Version>;
    /// Rolls back explicitly (dropping does the same).
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// Atomic batches of prebuilt ops.
///
/// # Contract
/// The ops apply in order, all or nothing, in one commit whose version is returned; a failing
/// `Check`, `CheckRange` or `Insert` aborts the whole batch with `CheckFailed` at its index, a
/// failing `Sum`, `Min` or `Max` with `SumFailed`.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait BatchCapability: MaybeSendSync {
    /// Applies `ops` atomically.
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version>;
}

/// An error of the same kind and message, for reporting one failure to several callers (say,
/// of a group commit to each of its units): errors are not `Clone`, because driver errors are
/// not.
pub fn replicate(error: &Error) -> Error {
    match error {
        Error::InvalidInput {
            message,
            nothing_written,
        } => Error::InvalidInput {
            message: message.clone(),
            nothing_written: *nothing_written,
        },
        Error::LimitExceeded {
            what,
            limit,
            actual,
            nothing_written,
        } => Error::LimitExceeded {
            what,
            limit: *limit,
            actual: *actual,
            nothing_written: *nothing_written,
        },
        Error::CheckFailed { index, key } => Error::CheckFailed {
            index: *index,
            key: key.clone(),
        },
        Error::SumFailed { index, key, reason } => Error::SumFailed {
            index: *index,
            key: key.clone(),
            reason: *reason,
        },
        Error::Conflict { message } => Error::Conflict {
            message: message.clone(),
        },
        Error::Busy {
            message,
            nothing_written,
        } => Error::Busy {
            message: message.clone(),
            nothing_written: *nothing_written,
        },
        Error::Unavailable {
            message,
            nothing_written,
        } => Error::Unavailable {
            message: message.clone(),
            nothing_written: *nothing_written,
        },
        Error::OutcomeUnknown { message } => Error::OutcomeUnknown {
            message: message.clone(),
        },
        Error::Corrupt { message } => Error::Corrupt {
            message: message.clone(),
        },
        Error::PartialWrite {
            applied,
            failed_at,
            source,
        } => Error::PartialWrite {
            applied: *applied,
            failed_at: *failed_at,
            source: Box::new(replicate(source)),
        },
        Error::Unsupported { operation, adapter } => Error::Unsupported {
            operation,
            adapter: adapter.clone(),
        },
        Error::Decode { expected, message } => Error::Decode {
            expected,
            message: message.clone(),
        },
        Error::IncompatibleSchema { found, supported } => Error::IncompatibleSchema {
            found: *found,
            supported: *supported,
        },
        Error::Closed => Error::Closed,
        Error::Backend {
            adapter,
            source,
            nothing_written,
        } => Error::Backend {
            adapter: adapter.clone(),
            source: source.to_string().into(),
            nothing_written: *nothing_written,
        },
    }
}

/// A future that is pending once, so the executor runs other tasks: a yield that works on any
/// executor (the core knows no runtime).
#[derive(Debug, Default)]
pub struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Forwards [`EngineDb`] through a pointer type, so `&D`, `Box<D>` and `Arc<D>` are stores too.
macro_rules! forward_engine_db {
    ($($ptr:ty),*) => {$(
        #[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
        #[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
        impl<D: EngineDb + ?Sized> EngineDb for $ptr {
            fn info(&self) -> AdapterInfo {
                (**self).info()
            }
            async fn get(&self, key: &Key) -> Result<Option<Entry>> {
                (**self).get(key).await
            }
            async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
                (**self).get_many(keys).await
            }
            async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
                (**self).list(selector, options).await
            }
            async fn write(&self, op: &Write) -> Result<Version> {
                (**self).write(op).await
            }
            async fn advance_version(&self, past: Version) -> Result<()> {
                (**self).advance_version(past).await
            }
            fn transactions(&self) -> Option<&dyn TransactionCapability> {
                (**self).transactions()
            }
            fn batches(&self) -> Option<&dyn BatchCapability> {
                (**self).batches()
            }
            async fn pause(&self, duration: Duration) {
                (**self).pause(duration).await
            }
            async fn close(&self) -> Result<()> {
                (**self).close().await
            }
        }
    )*};
}

forward_engine_db!(&D, Box<D>, Arc<D>);
