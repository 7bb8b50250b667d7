//! Adaptive group commit: units that queue while a commit is in flight share the next write
//! transaction and its one durable commit; a lone unit commits at once. Each unit gets its own
//! version, in queue order; a unit of a group that fails is undone alone (its writes were
//! recorded and are reverted, since redb has no savepoints inside a dirty transaction; a lone
//! unit needs no record: its transaction is aborted), and every unit is acknowledged only after
//! the commit that made it durable.

use enginedb::port::{UndoLog, apply_ops};
use enginedb::{Error, Result, Version};
use enginedb_kit::group::Unit;

use crate::latest::Db;
use crate::store::{ENTRIES, META, Namespaced, last_version, map_err};

/// On the writer: commits `units` as one group; the outcome of each, or the group's error.
pub(crate) fn commit(db: &Db, durability: redb::Durability, units: &[Unit]) -> Result<Vec<Result<Version>>> {
    let mut tx = db.begin_write()?;
    tx.set_durability(durability).map_err(|e| Error::backend("redb", e))?;
    let mut last = last_version(&tx.open_table(META).map_err(map_err)?)?;
    let mut outcomes = Vec::with_capacity(units.len());
    {
        let mut table = tx.open_table(ENTRIES).map_err(map_err)?;
        for unit in units {
            let version = Version(last.checked_add(1).ok_or_else(|| Error::Corrupt {
                message: "the version counter is exhausted".into(),
            })?);
            let mut kv = Namespaced::new(&mut table, &unit.namespace);
            let outcome = if units.len() == 1 {
                // Undone, if it fails, by aborting the transaction below.
                apply_ops(&mut kv, &unit.ops, version)
            } else {
                let mut log = UndoLog::new(&mut kv);
                let outcome = apply_ops(&mut log, &unit.ops, version);
                if outcome.is_err() {
                    log.undo()?;
                }
                outcome
            };
            if outcome.is_ok() {
                last = version.0;
            }
            outcomes.push(outcome.map(|()| version));
        }
    }
    if let [Err(_)] = outcomes.as_slice() {
        tx.abort().map_err(map_err)?;
        return Ok(outcomes);
    }
    tx.open_table(META)
        .map_err(map_err)?
        .insert("last_version", last)
        .map_err(map_err)?;
    db.commit(tx)?;
    Ok(outcomes)
}
