//! `transact`: read-modify-write logic, on a native transaction where the adapter has one and as
//! an optimistic transaction over an atomic batch where it has only that (DESIGN §4).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::lock::Mutex;

use crate::atomic::{Commit, Mode};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::validate_unit;
use crate::model::{Entry, ListOptions, Page, Selector, Value, Write};
use crate::optimistic::Optimistic;
use crate::port::{EngineDb, EngineTx};

/// How often and how patiently [`transact_with`] retries a transaction that lost a race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Pause before the second attempt; it doubles each retry, with jitter.
    pub base_delay: Duration,
    /// The longest pause.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 10 attempts, pauses from 1 ms up to 100 ms.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(100),
        }
    }
}

/// What a successful [`transact`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transacted<T> {
    /// What the closure returned on the attempt that committed.
    pub value: T,
    /// The commit: `Mode::Transaction` natively, `Mode::Batch` when optimistic.
    pub commit: Commit,
    /// Attempts it took (1 when no conflict).
    pub attempts: u32,
}

/// Runs `body` in a transaction with the default [`RetryPolicy`]; see [`transact_with`].
///
/// # Errors
/// As [`transact_with`].
pub async fn transact<'db, T, F, Fut>(db: &'db dyn EngineDb, body: F) -> Result<Transacted<T>>
where
    F: FnMut(Tx<'db>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    transact_with(db, RetryPolicy::default(), body).await
}

/// Runs `body` in a serializable transaction and commits what it wrote.
///
/// On an adapter with transactions `body` runs inside one. On a batch-only adapter it runs
/// optimistically: reads are recorded, writes buffered, and the commit is one atomic batch
/// carrying a `Check` for every key read and a `CheckRange` fingerprint for every span listed,
/// so a concurrent change to anything read makes the commit fail. A lost race (`Conflict`, or
/// `Busy`) runs `body` again, up to the policy's attempts, pausing with backoff in between.
/// `body` must therefore be safe to run more than once.
///
/// # Errors
/// `Unsupported` on an adapter with neither capability; `Conflict` when every attempt lost a
/// race (`Busy` when the last one found the store locked); any other error from `body` or the
/// store, after which nothing was written.
pub async fn transact_with<'db, T, F, Fut>(
    db: &'db dyn EngineDb,
    policy: RetryPolicy,
    mut body: F,
) -> Result<Transacted<T>>
where
    F: FnMut(Tx<'db>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let attempts = policy.max_attempts.max(1);
    let mut last_error = None;
    for attempt in 1..=attempts {
        if attempt > 1 {
            db.pause(backoff(&policy, attempt)).await;
        }
        let outcome = match Tx::begin(db).await {
            Ok(tx) => attempt_once(&tx, &mut body, attempt).await,
            Err(error) => Err(error),
        };
        match outcome {
            Err(error) if error.is_retryable() => last_error = Some(error),
            other => return other,
        }
    }
    match last_error {
        // A store that stayed locked is reported as such, not as a lost race.
        Some(busy @ Error::Busy { .. }) => Err(busy),
        last => Err(Error::Conflict {
            message: format!(
                "gave up after {attempts} attempts; last: {}",
                last.map_or_else(String::new, |e| e.to_string())
            ),
        }),
    }
}

/// Runs `body` once in `tx` and commits, or rolls back when `body` fails.
async fn attempt_once<'db, T, F, Fut>(tx: &Tx<'db>, body: &mut F, attempt: u32) -> Result<Transacted<T>>
where
    F: FnMut(Tx<'db>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    match body(tx.clone()).await {
        Ok(value) => tx.commit().await.map(|commit| Transacted {
            value,
            commit,
            attempts: attempt,
        }),
        Err(error) => {
            tx.rollback().await;
            Err(error)
        }
    }
}

/// The pause before attempt number `attempt` (2 or more): doubling from the base delay, capped,
/// with jitter.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    static JITTER: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let doubled = policy.base_delay.saturating_mul(1 << (attempt - 2).min(16));
    let ceiling = doubled.min(policy.max_delay);
    // xorshift: enough to keep retrying peers apart; no randomness crate in the core.
    let mut x = JITTER.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    JITTER.store(x, Ordering::Relaxed);
    ceiling.mul_f64(0.5 + (x % 1000) as f64 / 2000.0)
}

enum TxState<'db> {
    Native(Box<dyn EngineTx>),
    Optimistic(Optimistic<'db>),
    Finished,
}

/// The handle `body` receives: reads see the transaction's own writes (with
/// [`Version::PENDING`](crate::Version::PENDING)); writes join the transaction. Clones share it. Once the transaction
/// has finished, every call fails with `Closed`.
#[derive(Clone)]
pub struct Tx<'db> {
    state: Arc<Mutex<TxState<'db>>>,
}

impl<'db> Tx<'db> {
    async fn begin(db: &'db dyn EngineDb) -> Result<Tx<'db>> {
        let state = if let Some(transactions) = db.transactions() {
            TxState::Native(transactions.begin().await?)
        } else if db.batches().is_some() {
            TxState::Optimistic(Optimistic::new(db))
        } else {
            return Err(Error::Unsupported {
                operation: "transact",
                adapter: db.info().name,
            });
        };
        Ok(Tx {
            state: Arc::new(Mutex::new(state)),
        })
    }

    /// The entry at `key`, as this transaction sees it.
    ///
    /// # Errors
    /// As [`EngineDb::get`], or `Closed`.
    pub async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        match &mut *self.state.lock().await {
            TxState::Native(tx) => tx.get(key).await,
            TxState::Optimistic(o) => o.get(key).await,
            TxState::Finished => Err(Error::Closed),
        }
    }

    /// The entries at `keys`, in argument order, as this transaction sees them.
    ///
    /// # Errors
    /// As [`EngineDb::get_many`], or `Closed`.
    pub async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        match &mut *self.state.lock().await {
            TxState::Native(tx) => tx.get_many(keys).await,
            TxState::Optimistic(o) => o.get_many(keys).await,
            TxState::Finished => Err(Error::Closed),
        }
    }

    /// One page of `selector`, as this transaction sees it.
    ///
    /// # Errors
    /// As [`EngineDb::list`], or `Closed`.
    pub async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        match &mut *self.state.lock().await {
            TxState::Native(tx) => tx.list(selector, options).await,
            TxState::Optimistic(o) => o.list(selector, options).await,
            TxState::Finished => Err(Error::Closed),
        }
    }

    /// Applies `ops` in order inside the transaction. A failed `Check`, `Insert` or `Sum`
    /// fails here, with its index within `ops`.
    ///
    /// # Errors
    /// As [`crate::run_atomic_writes`], or `Closed`.
    pub async fn write(&self, ops: &[Write]) -> Result<()> {
        validate_unit(ops)?;
        match &mut *self.state.lock().await {
            TxState::Native(tx) => tx.apply(ops).await,
            TxState::Optimistic(o) => o.apply(ops).await,
            TxState::Finished => Err(Error::Closed),
        }
    }

    /// `Set` `key` to `value` in the transaction.
    ///
    /// # Errors
    /// As [`Tx::write`].
    pub async fn set(&self, key: Key, value: impl Into<Value>) -> Result<()> {
        self.write(&[Write::set(key, value)]).await
    }

    /// `Delete` `key` in the transaction.
    ///
    /// # Errors
    /// As [`Tx::write`].
    pub async fn delete(&self, key: Key) -> Result<()> {
        self.write(&[Write::delete(key)]).await
    }

    /// `Sum` `delta` into the counter at `key` in the transaction.
    ///
    /// # Errors
    /// As [`Tx::write`].
    pub async fn sum(&self, key: Key, delta: i64) -> Result<()> {
        self.write(&[Write::sum(key, delta)]).await
    }

    async fn commit(&self) -> Result<Commit> {
        let state = std::mem::replace(&mut *self.state.lock().await, TxState::Finished);
        match state {
            TxState::Native(tx) => tx.commit().await.map(|version| Commit {
                version,
                mode: Mode::Transaction,
            }),
            TxState::Optimistic(o) => o.commit().await,
            TxState::Finished => Err(Error::Closed),
        }
    }

    async fn rollback(&self) {
        let state = std::mem::replace(&mut *self.state.lock().await, TxState::Finished);
        if let TxState::Native(tx) = state {
            // The transaction is abandoned either way; a failed rollback is the adapter's to
            // clean up (dropping rolls back) and the body's error is the one worth reporting.
            let _ = tx.rollback().await;
        }
    }
}
