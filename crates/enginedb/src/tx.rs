//! [`Tx`]: the transaction a [`crate::Db::transact`] body works in — natively where the adapter
//! has transactions, optimistically over one atomic batch where it has only batches.

use std::sync::Arc;

use crate::commit::{Commit, Mode};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::MAX_OPS_PER_UNIT;
use crate::model::{Entry, ListOptions, Page, Selector, Write};
use crate::optimistic::Optimistic;
use crate::port::{EngineDb, EngineTx};
use crate::resolve::name_op;
use crate::validate::{validate_key, validate_keys, validate_unit};
use crate::value::Value;

enum Engine {
    Native(Box<dyn EngineTx>),
    Optimistic(Box<Optimistic>),
}

/// One attempt of a transaction. Reads see the committed data plus the transaction's own
/// writes (which read back with [`crate::Version::PENDING`]); writes are buffered and sent with the
/// next read or at commit, so they cost no round trip of their own.
///
/// A write that is invalid (an empty key, a value over the limit…), a `check` that does not
/// hold, an `insert` whose key exists, a counter op that overflows: each fails the next read
/// or the commit, and then the whole transaction, which writes nothing.
pub struct Tx {
    engine: Engine,
    /// Writes not yet sent to the engine.
    buffered: Vec<Write>,
    /// The first invalid write, reported at the next read or at commit.
    refused: Option<Error>,
    /// The first `Conflict` an operation met: the attempt lost a race.
    lost: Option<Error>,
}

impl Tx {
    /// Begins a transaction on `db`: native if it has transactions, else optimistic.
    pub(crate) async fn begin(db: &Arc<dyn EngineDb>) -> Result<Tx> {
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
            buffered: Vec::new(),
            refused: None,
            lost: None,
        })
    }

    /// The first `Conflict` an operation of this attempt met, if any.
    pub(crate) fn lost_race(&mut self) -> Option<Error> {
        self.lost.take()
    }

    /// Notes a lost race, so the attempt is run again even if the body maps the error away.
    fn note<T>(&mut self, result: Result<T>) -> Result<T> {
        if let Err(Error::Conflict { message }) = &result {
            if self.lost.is_none() {
                self.lost = Some(Error::Conflict {
                    message: message.clone(),
                });
            }
        }
        result
    }

    /// Sends the buffered writes to the engine, in units of at most the op limit.
    async fn flush(&mut self) -> Result<()> {
        if let Some(error) = self.refused.take() {
            return Err(error);
        }
        let buffered = std::mem::take(&mut self.buffered);
        for chunk in buffered.chunks(MAX_OPS_PER_UNIT) {
            let applied = match &mut self.engine {
                Engine::Native(tx) => tx.apply(chunk).await,
                Engine::Optimistic(o) => o.apply(chunk).await,
            };
            let applied = self.note(applied);
            applied.map_err(|error| name_op(error, chunk))?;
        }
        Ok(())
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
        if self.refused.is_none() {
            match validate_unit(std::slice::from_ref(&op)) {
                Ok(()) => self.buffered.push(op),
                Err(error) => self.refused = Some(error),
            }
        }
        self
    }

    /// `Set` `key` to `value`.
    pub fn set(&mut self, key: Key, value: impl Into<Value>) -> &mut Self {
        self.write(Write::set(key, value))
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
        match self.engine {
            Engine::Native(tx) => tx.commit().await.map(|version| Commit {
                version,
                mode: Mode::Transaction,
            }),
            Engine::Optimistic(o) => o.commit().await,
        }
    }

    /// Rolls back (a failed rollback is the adapter's to clean up: dropping rolls back too).
    pub(crate) async fn rollback(self) {
        if let Engine::Native(tx) = self.engine {
            let _ = tx.rollback().await;
        }
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
