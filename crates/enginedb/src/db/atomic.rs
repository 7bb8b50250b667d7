//! [`Atomic`]: a unit of writes built op by op, in the manner of Deno KV's `atomic()`.

use crate::commit::{Atomicity, Commit};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::model::{Selector, Write};
use crate::retry::RetryPolicy;
use crate::value::Value;
use crate::version::Version;

use super::Db;

impl Db {
    /// A unit of writes, built op by op and committed all or nothing: see [`Atomic`].
    pub fn atomic(&self) -> Atomic<'_> {
        Atomic::new(self)
    }
}

/// A unit of write ops, applied in order and committed all or nothing where the store can
/// (see [`Atomic::commit`]). Built by [`Db::atomic`].
#[must_use = "a unit does nothing until it is committed"]
pub struct Atomic<'db> {
    db: &'db Db,
    ops: Vec<Write>,
    atomicity: Atomicity,
    retry: Option<RetryPolicy>,
    /// The first op refused (it wrote into the library's keys): `commit` fails with it.
    refused: Option<Error>,
}

impl<'db> Atomic<'db> {
    fn new(db: &'db Db) -> Self {
        Atomic {
            db,
            ops: Vec::new(),
            atomicity: Atomicity::BestEffort,
            retry: None,
            refused: None,
        }
    }

    /// Adds `op`.
    pub fn op(self, op: Write) -> Self {
        let allowed = self.db.refuse_library(&op);
        self.library_op_if(op, allowed)
    }

    /// Adds every op of `ops`, in order.
    pub fn ops(self, ops: impl IntoIterator<Item = Write>) -> Self {
        ops.into_iter().fold(self, Atomic::op)
    }

    /// Adds an op the library makes (into its own keys).
    pub(crate) fn library_op(self, op: Write) -> Self {
        self.library_op_if(op, Ok(()))
    }

    /// Adds `op`; when `allowed` is an error (the first such), `commit` fails with it.
    pub(crate) fn library_op_if(mut self, op: Write, allowed: Result<()>) -> Self {
        if let Err(error) = allowed {
            self.refused.get_or_insert(error);
        }
        self.ops.push(op);
        self
    }

    /// Adds ops the library makes, in order.
    pub(crate) fn library_ops(self, ops: impl IntoIterator<Item = Write>) -> Self {
        ops.into_iter().fold(self, Atomic::library_op)
    }

    /// The handle this unit commits on.
    pub(crate) fn db(&self) -> &'db Db {
        self.db
    }

    /// Precondition: `key` is at `version`; else the unit fails with `CheckFailed`.
    pub fn check(self, key: Key, version: Version) -> Self {
        self.op(Write::check(key, Some(version)))
    }

    /// Precondition: `key` is absent; else the unit fails with `CheckFailed`.
    pub fn check_absent(self, key: Key) -> Self {
        self.op(Write::check(key, None))
    }

    /// Sets `key` to `value`.
    pub fn set(self, key: Key, value: impl Into<Value>) -> Self {
        self.op(Write::set(key, value))
    }

    /// Sets `value` at `prefix` + (commit version, n), `n` counting the unit's versionstamped
    /// writes from 0: [`Key::versionstamped`] makes the key from the commit's version.
    pub fn set_versionstamped(self, prefix: Key, value: impl Into<Value>) -> Self {
        self.op(Write::set_versionstamped(prefix, value))
    }

    /// Sets `key` to `value` if it is absent; else the unit fails with `CheckFailed`.
    pub fn insert(self, key: Key, value: impl Into<Value>) -> Self {
        self.op(Write::insert(key, value))
    }

    /// Deletes `key` (absent is fine).
    pub fn delete(self, key: Key) -> Self {
        self.op(Write::delete(key))
    }

    /// Deletes every key `selector` covers.
    pub fn delete_range(self, selector: Selector) -> Self {
        self.op(Write::delete_range(selector))
    }

    /// Adds `delta` to the counter at `key` (absent counts as 0).
    pub fn sum(self, key: Key, delta: i64) -> Self {
        self.op(Write::sum(key, delta))
    }

    /// Keeps the smaller of the counter at `key` and `operand` (absent: `operand`).
    pub fn min(self, key: Key, operand: i64) -> Self {
        self.op(Write::min(key, operand))
    }

    /// Keeps the larger of the counter at `key` and `operand` (absent: `operand`).
    pub fn max(self, key: Key, operand: i64) -> Self {
        self.op(Write::max(key, operand))
    }

    /// Refuses, with `Unsupported` and nothing written, to run the unit op by op on a store
    /// that has neither transactions nor atomic batches.
    pub fn require_atomic(self) -> Self {
        self.atomicity(Atomicity::Require)
    }

    /// Runs with `atomicity`: [`Atomicity::Require`] as [`Atomic::require_atomic`], or
    /// [`Atomicity::BestEffort`] (the default), which runs the unit op by op where the store
    /// has nothing atomic, reporting a failure midway as `PartialWrite`.
    pub fn atomicity(mut self, atomicity: Atomicity) -> Self {
        self.atomicity = atomicity;
        self
    }

    /// Retries under `policy` instead of the handle's.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The ops so far.
    pub fn as_ops(&self) -> &[Write] {
        &self.ops
    }

    /// Commits the unit: in one interactive transaction where the store has them, else as one
    /// atomic batch, else (unless [`Atomic::require_atomic`]) op by op — and says which in
    /// [`Commit::mode`]. A unit that loses a race is run again under the retry policy.
    ///
    /// # Errors
    /// With nothing written: `InvalidInput`/`LimitExceeded` (checked before anything is sent),
    /// `CheckFailed`/`SumFailed` naming the op and its key, `Conflict` once the retry policy
    /// gave up, `Busy` when the store stayed locked, `Unsupported`, the store's errors. `PartialWrite` (op by op only) says
    /// what was applied; `OutcomeUnknown` that the commit may have happened.
    pub async fn commit(self) -> Result<Commit> {
        if let Some(error) = self.refused {
            return Err(error);
        }
        let policy = self.retry.unwrap_or(self.db.retry);
        self.db.write_with(&self.ops, self.atomicity, &policy).await
    }
}
