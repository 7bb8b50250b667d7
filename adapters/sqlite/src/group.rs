//! Adaptive group commit. Every unit joins a queue, and the writer commits whatever has queued
//! in one SQLite transaction: a unit that arrives while the writer is idle commits at once
//! alone; units that queue while a commit is in flight share the next one, and its one fsync.
//! Each unit runs in its own savepoint, so a unit that fails (a check, an overflow, an injected
//! fault) is undone alone and the others commit. Every unit still draws its own version, in
//! queue order, and is acknowledged only after the COMMIT that made it durable.

use std::sync::Arc;

use enginedb::blocking::Reply;
use enginedb::{Result, Version, Write};
use rusqlite::{Connection, TransactionBehavior};

use crate::exec::{self, Counter, StatementFault, map_err};

/// A validated unit waiting for the writer.
pub(crate) struct Pending {
    pub(crate) namespace: Arc<str>,
    pub(crate) ops: Vec<Write>,
}

/// On the writer: commits the queued `units` as one group and answers each.
pub(crate) fn commit_all(connection: &mut Connection, fault: &StatementFault, units: Vec<(Pending, Reply)>) {
    let (units, replies): (Vec<Pending>, Vec<_>) = units.into_iter().unzip();
    match commit(connection, &units, fault) {
        Ok(outcomes) => replies
            .into_iter()
            .zip(outcomes)
            .for_each(|(reply, outcome)| reply.send(outcome)),
        // BEGIN or COMMIT failed: no unit of the group was written.
        Err(error) => replies.into_iter().for_each(|reply| reply.send(Err(error.replicate()))),
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
