//! Adaptive group commit. Every unit joins a queue, and the writer commits whatever has queued
//! in one SQLite transaction: a unit that arrives while the writer is idle commits at once
//! alone; units that queue while a commit is in flight share the next one, and its one fsync.
//! Each unit of a group runs in its own savepoint, so a unit that fails (a check, an overflow,
//! an injected fault) is undone alone and the others commit. Every unit still draws its own
//! version, in queue order, and is acknowledged only after the COMMIT that made it durable.

use std::sync::Arc;

use enginedb::blocking::Reply;
use enginedb::{EncodedWrite, Result, Version};
use rusqlite::{Connection, TransactionBehavior};

use crate::exec::{self, Counter, StatementFault, map_err};

/// A validated unit waiting for the writer.
pub(crate) struct Pending {
    pub(crate) namespace: Arc<str>,
    pub(crate) ops: Vec<EncodedWrite>,
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

/// One transaction, one savepoint per unit (a lone unit needs none: if it fails, the whole
/// transaction is rolled back); the outcome of each unit, or the transaction's error.
fn commit(connection: &mut Connection, units: &[Pending], fault: &StatementFault) -> Result<Vec<Result<Version>>> {
    let mut tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    if let [unit] = units {
        // On error, dropping `tx` rolls the unit back.
        return Ok(vec![match run_unit(&tx, unit, fault) {
            Ok(version) => tx.commit().map(|()| version).map_err(map_err),
            Err(error) => Err(error),
        }]);
    }
    let mut outcomes = Vec::with_capacity(units.len());
    for unit in units {
        let savepoint = tx.savepoint().map_err(map_err)?;
        match run_unit(&savepoint, unit, fault) {
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

/// Draws the unit's version and runs its statements.
fn run_unit(connection: &Connection, unit: &Pending, fault: &StatementFault) -> Result<Version> {
    let mut counter = Counter::default();
    let version = exec::bump_version(connection, fault, &mut counter)?;
    exec::apply(connection, &unit.namespace, &unit.ops, version, fault, &mut counter)?;
    Ok(version)
}
