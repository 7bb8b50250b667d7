//! Adaptive group commit. Every unit joins a queue, and the writer commits whatever has queued
//! in one SQLite transaction: a unit that arrives while the writer is idle commits at once
//! alone; units that queue while a commit is in flight share the next one, and its one fsync.
//! Each unit runs in its own savepoint, so a unit that fails (a check, an overflow, an injected
//! fault) is undone alone and the others commit. Every unit still draws its own version, in
//! queue order, and is acknowledged only after the COMMIT that made it durable.

use std::sync::{Arc, Mutex, PoisonError};

use enginedb::{Error, Result, Version, Write};
use futures::channel::oneshot;
use rusqlite::{Connection, TransactionBehavior};

use crate::exec::{self, Counter, StatementFault, map_err};

struct Pending {
    namespace: Arc<str>,
    ops: Vec<Write>,
    reply: oneshot::Sender<Result<Version>>,
}

/// Units waiting for the writer.
#[derive(Default)]
pub(crate) struct Queue(Mutex<Vec<Pending>>);

impl Queue {
    /// Queues a validated unit; the answer comes once a writer job has committed it.
    pub(crate) fn push(&self, namespace: Arc<str>, ops: Vec<Write>) -> oneshot::Receiver<Result<Version>> {
        let (reply, answer) = oneshot::channel();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Pending { namespace, ops, reply });
        answer
    }

    /// On the writer: commits every queued unit in one transaction and answers each.
    pub(crate) fn commit_all(&self, connection: &mut Connection, fault: &StatementFault) {
        let units = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        if units.is_empty() {
            return;
        }
        match commit(connection, &units, fault) {
            Ok(outcomes) => {
                for (unit, outcome) in units.into_iter().zip(outcomes) {
                    let _ = unit.reply.send(outcome);
                }
            }
            // BEGIN or COMMIT failed: no unit of the group was written.
            Err(error) => {
                for unit in units {
                    let _ = unit.reply.send(Err(copy(&error)));
                }
            }
        }
    }
}

/// One transaction, one savepoint per unit; the outcome of each unit, or the transaction's error.
fn commit(connection: &mut Connection, units: &[Pending], fault: &StatementFault) -> Result<Vec<Result<Version>>> {
    let mut tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    let mut outcomes = Vec::with_capacity(units.len());
    for unit in units {
        let savepoint = tx.savepoint().map_err(map_err)?;
        let mut counter = Counter::default();
        let outcome = exec::bump_version(&savepoint, fault, &mut counter).and_then(|version| {
            exec::apply(&savepoint, &unit.namespace, &unit.ops, fault, &mut counter).map(|()| version)
        });
        match outcome {
            Ok(version) => {
                savepoint.commit().map_err(map_err)?;
                outcomes.push(Ok(version));
            }
            // Dropping the savepoint rolls this unit back, and only this unit.
            Err(error) => outcomes.push(Err(error)),
        }
    }
    tx.commit().map_err(map_err)?;
    Ok(outcomes)
}

/// The same failure for every unit of a group (errors are not `Clone`).
fn copy(error: &Error) -> Error {
    match error {
        Error::Busy { message } => Error::Busy {
            message: message.clone(),
        },
        Error::Closed => Error::Closed,
        other => Error::backend("sqlite", other.to_string()),
    }
}
