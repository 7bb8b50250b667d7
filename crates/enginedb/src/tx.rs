//! [`Tx`]: the transaction a [`crate::Db::transact`] body works in — natively where the adapter
//! has transactions, optimistically over one atomic batch where it has only batches.

use std::sync::Arc;

use crate::clock::Clock;
use crate::commit::{Commit, Mode};
use crate::error::{Error, ErrorKind, Result};
use crate::key::Key;
use crate::library;
use crate::limits::MAX_OPS_PER_UNIT;
use crate::model::{Entry, ListOptions, Page, Selector, Write};
use crate::optimistic::Optimistic;
use crate::port::{EngineDb, EngineTx, replicate};
use crate::resolve::name_op;
use crate::validate::{validate_key, validate_keys, validate_op_at};
use crate::value::Value;

enum Engine {
    Native(Box<dyn EngineTx>),
    Optimistic(Box<Optimistic>),
}

/// One attempt of a transaction. Reads see the committed data plus the transaction's own
/// writes (which read back with [`crate::Version::PENDING`]); writes are buffered and sent
/// together with the next read or at commit.
///
/// A write that is invalid (an empty key, a value over the limit…), a `check` that does not
/// hold, an `insert` whose key exists, a counter op that overflows fails the next read or the
/// commit. So does any error of the store. After the first such error the transaction cannot
/// commit — even if the body goes on and returns `Ok` — so it never writes part of itself.
/// Error indexes count the transaction's writes from its first, in order.
pub struct Tx {
    engine: Engine,
    /// The adapter's name when the store was opened read-only: writes fail.
    read_only: Option<String>,
    /// Whether it sees and writes the library's own keys ([`crate::Db::with_library_keys`]).
    library: bool,
    /// The clock of the handle that began it.
    clock: Arc<dyn Clock>,
    /// Writes not yet sent to the engine.
    buffered: Pending,
    /// Versionstamped writes, sent last, just before the commit (their keys need its version).
    stamped: Pending,
    /// The index of every write sent so far, in the order sent (versionstamped writes are sent
    /// out of order): how an engine's error at a place among them is named.
    sent_at: Vec<usize>,
    /// Writes made so far, sent or buffered: the index the next one gets.
    written: usize,
    /// The first error: the transaction fails with it at commit.
    failed: Option<Error>,
    /// Set while writes are being sent: still set at the next call, that send was cancelled.
    sending: bool,
}

impl Tx {
    /// Begins a transaction on `db`: native if it has transactions, else optimistic. On a store
    /// opened read-only (`read_only` names its adapter) every write fails it.
    pub(crate) async fn begin(
        db: &Arc<dyn EngineDb>,
        read_only: Option<&str>,
        library: bool,
        clock: &Arc<dyn Clock>,
    ) -> Result<Tx> {
        let engine = if let Some(transactions) = db.transactions() {
            Engine::Native(transactions.begin().await?)
        } else if db.batches().is_some() {
            Engine::Optimistic(Box::new(Optimistic::new(db.clone())))
        } else {
            return Err(Error::Unsupported {
                operation: "transact",
                adapter: db.info().name,
            });
        };
        Ok(Tx {
            engine,
            read_only: read_only.map(str::to_owned),
            library,
            clock: clock.clone(),
            buffered: Pending::default(),
            stamped: Pending::default(),
            sent_at: Vec::new(),
            written: 0,
            failed: None,
            sending: false,
        })
    }

    /// The `Conflict` this attempt met, if it lost a race: then it is run again, whatever the
    /// body made of the error.
    pub(crate) fn lost_race(&self) -> Option<Error> {
        self.failed
            .as_ref()
            .filter(|e| e.kind() == ErrorKind::Conflict)
            .map(replicate)
    }

    /// Keeps the first error the store answered: the transaction cannot commit after it.
    fn note<T>(&mut self, result: Result<T>) -> Result<T> {
        if let (Err(error), None) = (&result, &self.failed) {
            self.failed = Some(replicate(error));
        }
        result
    }

    /// The error the transaction already failed with, if any.
    fn check_usable(&mut self) -> Result<()> {
        if self.sending {
            self.sending = false;
            self.failed.get_or_insert_with(|| {
                Error::invalid("an earlier call of this transaction was cancelled while it sent writes")
            });
        }
        match &self.failed {
            Some(error) => Err(replicate(error)),
            None => Ok(()),
        }
    }

    /// Sends the buffered writes now (they go with the next read or the commit otherwise): to
    /// surface their errors early, or to bound what a large transaction holds in memory.
    ///
    /// # Errors
    /// The first error of a buffered write (its index counts every write of the transaction),
    /// or the store's; the transaction then cannot commit.
    pub async fn flush(&mut self) -> Result<()> {
        self.check_usable()?;
        while !self.buffered.ops.is_empty() {
            let n = self.buffered.ops.len().min(MAX_OPS_PER_UNIT);
            self.send(false, n).await?;
        }
        Ok(())
    }

    /// Sends the first `n` buffered writes (the versionstamped ones if `stamped`).
    async fn send(&mut self, stamped: bool, n: usize) -> Result<()> {
        let mut pending = std::mem::take(self.pending(stamped));
        let chunk = pending.ops.get(..n).unwrap_or_default();
        self.sending = true;
        let applied = match &mut self.engine {
            Engine::Native(tx) => tx.apply(chunk).await,
            Engine::Optimistic(o) => o.apply(chunk).await,
        };
        self.sending = false;
        let at = pending.at.get(..n).unwrap_or_default();
        let applied = applied.map_err(|error| renumber(name_op(error, chunk, 0), at));
        if applied.is_ok() {
            pending.ops.drain(..n);
            self.sent_at.extend(pending.at.drain(..n));
        }
        *self.pending(stamped) = pending;
        self.note(applied)
    }

    fn pending(&mut self, stamped: bool) -> &mut Pending {
        if stamped { &mut self.stamped } else { &mut self.buffered }
    }

    /// The entry at `key`, as this transaction sees it.
    ///
    /// # Errors
    /// `InvalidInput`/`LimitExceeded` for a key that could never be stored, an error of a
    /// buffered write, or the store's.
    pub async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        validate_key(key)?;
        self.flush().await?;
        let read = match &mut self.engine {
            Engine::Native(tx) => tx.get(key).await,
            Engine::Optimistic(o) => o.get(key).await,
        };
        self.note(read)
    }

    /// The entries at `keys`, in argument order, as this transaction sees them.
    ///
    /// # Errors
    /// As [`Tx::get`], and `LimitExceeded` for more than [`crate::limits::MAX_GET_MANY`] keys.
    pub async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        validate_keys(keys)?;
        self.flush().await?;
        let read = match &mut self.engine {
            Engine::Native(tx) => tx.get_many(keys).await,
            Engine::Optimistic(o) => o.get_many(keys).await,
        };
        self.note(read)
    }

    /// One page, for [`crate::List`].
    pub(crate) async fn page(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        crate::port::ListPlan::new(selector, options)?;
        self.flush().await?;
        let read = match &mut self.engine {
            Engine::Native(tx) => tx.list(selector, options).await,
            Engine::Optimistic(o) => o.list(selector, options).await,
        };
        self.note(read)
    }

    /// Buffers `op`, or keeps the error of an invalid one for the next read or the commit.
    pub fn write(&mut self, op: Write) -> &mut Self {
        let refused = if self.library { Ok(()) } else { library::refuse(&op) };
        self.buffer(op, refused)
    }

    /// Whether it sees and writes the library's own keys.
    pub(crate) fn sees_library(&self) -> bool {
        self.library
    }

    /// The clock of the handle that began it.
    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// Buffers an op the library makes (into its own keys).
    pub(crate) fn library_write(&mut self, op: Write) -> &mut Self {
        self.buffer(op, Ok(()))
    }

    /// Buffers `op`, or, when `refused` is an error, keeps it for the next read or the commit.
    pub(crate) fn buffer(&mut self, op: Write, refused: Result<()>) -> &mut Self {
        if self.failed.is_none() {
            let valid = match &self.read_only {
                Some(adapter) => Err(Error::read_only(adapter)),
                None => refused.and_then(|()| validate_op_at(&op, self.written)),
            };
            let valid = valid.and_then(|()| match op {
                Write::SetVersionstamped { .. } if self.stamped.ops.len() == MAX_OPS_PER_UNIT => {
                    Err(Error::on_write(Error::LimitExceeded {
                        what: "versionstamped writes per transaction",
                        limit: MAX_OPS_PER_UNIT as u64,
                        actual: MAX_OPS_PER_UNIT as u64 + 1,
                        nothing_written: false,
                    }))
                }
                _ => Ok(()),
            });
            match (valid, &op) {
                (Ok(()), Write::SetVersionstamped { .. }) => self.stamped.push(self.written, op),
                (Ok(()), _) => self.buffered.push(self.written, op),
                (Err(error), _) => self.failed = Some(error),
            }
        }
        self.written += 1;
        self
    }

    /// `Set` `key` to `value`.
    pub fn set(&mut self, key: Key, value: impl Into<Value>) -> &mut Self {
        self.write(Write::set(key, value))
    }

    /// `SetVersionstamped`: `value` at `prefix` + (commit version, n), `n` counting this
    /// transaction's versionstamped writes from 0 (see [`Key::versionstamped`]). Written at
    /// commit, after the transaction's other writes; its reads never see it.
    pub fn set_versionstamped(&mut self, prefix: Key, value: impl Into<Value>) -> &mut Self {
        self.write(Write::set_versionstamped(prefix, value))
    }

    /// `Insert` `value` at `key`, which must be absent.
    pub fn insert(&mut self, key: Key, value: impl Into<Value>) -> &mut Self {
        self.write(Write::insert(key, value))
    }

    /// `Delete` `key`.
    pub fn delete(&mut self, key: Key) -> &mut Self {
        self.write(Write::delete(key))
    }

    /// `DeleteRange` over `selector`.
    pub fn delete_range(&mut self, selector: Selector) -> &mut Self {
        self.write(Write::delete_range(selector))
    }

    /// `Sum` `delta` into the counter at `key`.
    pub fn sum(&mut self, key: Key, delta: i64) -> &mut Self {
        self.write(Write::sum(key, delta))
    }

    /// `Min` of the counter at `key` and `operand`.
    pub fn min(&mut self, key: Key, operand: i64) -> &mut Self {
        self.write(Write::min(key, operand))
    }

    /// `Max` of the counter at `key` and `operand`.
    pub fn max(&mut self, key: Key, operand: i64) -> &mut Self {
        self.write(Write::max(key, operand))
    }

    /// Commits; the version every write of the transaction got.
    pub(crate) async fn commit(mut self) -> Result<Commit> {
        self.flush().await?;
        if !self.stamped.ops.is_empty() {
            self.send(true, self.stamped.ops.len()).await?;
        }
        match self.engine {
            Engine::Native(tx) => tx.commit().await.map(|version| Commit {
                version,
                mode: Mode::Transaction,
            }),
            // Its errors name a write by its place among those sent.
            Engine::Optimistic(o) => o.commit().await.map_err(|error| renumber(error, &self.sent_at)),
        }
    }

    /// Rolls back (a failed rollback is the adapter's to clean up: dropping rolls back too).
    pub(crate) async fn rollback(self) {
        if let Engine::Native(tx) = self.engine {
            let _ = tx.rollback().await;
        }
    }
}

/// Writes waiting to be sent, with the index each got in the transaction.
#[derive(Default)]
struct Pending {
    ops: Vec<Write>,
    at: Vec<usize>,
}

impl Pending {
    fn push(&mut self, index: usize, op: Write) {
        self.ops.push(op);
        self.at.push(index);
    }
}

/// `error` of the write at place `i` among some sent, named as the transaction's write
/// `indexes[i]`.
fn renumber(error: Error, indexes: &[usize]) -> Error {
    let named = |index: usize| indexes.get(index).copied().unwrap_or(index);
    match error {
        Error::CheckFailed { index, key } => Error::CheckFailed {
            index: named(index),
            key,
        },
        Error::SumFailed { index, key, reason } => Error::SumFailed {
            index: named(index),
            key,
            reason,
        },
        other => other,
    }
}

/// What `Transaction::run` returns: the body's value and how it committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transacted<T> {
    /// What the body returned on the attempt that committed.
    pub value: T,
    /// The commit: `Mode::Transaction` natively, `Mode::Batch` when optimistic.
    pub commit: Commit,
    /// Attempts it took (1 when no conflict).
    pub attempts: u32,
}
