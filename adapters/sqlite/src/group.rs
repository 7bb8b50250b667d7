//! Adaptive group commit. Every unit joins a queue, and the writer commits whatever has queued
//! in one SQLite transaction: a unit that arrives while the writer is idle commits at once
//! alone; units that queue while a commit is in flight share the next one, and its one fsync.
//! Each unit of a group runs in its own savepoint, so a unit that fails (a check, an overflow,
//! an injected fault) is undone alone and the others commit. Every unit still draws its own
//! version, in queue order, and is acknowledged only after the COMMIT that made it durable.

use enginedb::{Result, Version};
use enginedb_kit::group::Unit;
use rusqlite::{Connection, TransactionBehavior};

use crate::exec::{self, Counter, StatementFault, commit_error, map_err};

/// One transaction, one savepoint per unit (a lone unit needs none: if it fails, the whole
/// transaction is rolled back); the outcome of each unit, or the transaction's error.
pub(crate) fn commit(
    connection: &mut Connection,
    units: &[Unit],
    fault: &StatementFault,
) -> Result<Vec<Result<Version>>> {
    let mut tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    if let [unit] = units {
        // On error, dropping `tx` rolls the unit back.
        return Ok(vec![match run_unit(&tx, unit, fault) {
            Ok(version) => tx.commit().map(|()| version).map_err(commit_error),
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
            Err(error) => {
                // Dropping the savepoint rolls this unit back, and only this unit — unless
                // SQLite already rolled the whole transaction back (an I/O error, a full disk):
                // then no unit of the group is written, and the group fails as one.
                drop(savepoint);
                if tx.is_autocommit() {
                    return Err(error);
                }
                outcomes.push(Err(error));
            }
        }
    }
    tx.commit().map_err(commit_error)?;
    Ok(outcomes)
}

/// Draws the unit's version and runs its statements.
fn run_unit(connection: &Connection, unit: &Unit, fault: &StatementFault) -> Result<Version> {
    let mut counter = Counter::default();
    let version = exec::bump_version(connection, fault, &mut counter)?;
    exec::apply(connection, &unit.namespace, &unit.ops, version, fault, &mut counter)?;
    Ok(version)
}
