//! Adaptive group commit: units that queue while a commit is in flight share the next write
//! transaction and its one durable commit; a lone unit commits at once. Each unit gets its own
//! version, in queue order; a unit of a group that fails is undone alone (its writes were
//! recorded and are reverted, since redb has no savepoints inside a dirty transaction; a lone
//! unit needs no record: its transaction is aborted), and every unit is acknowledged only after
//! the commit that made it durable.

use std::sync::Arc;

use enginedb::blocking::Reply;
use enginedb::{ByteRange, EncodedWrite, Error, OrderedKv, Result, Stored, Value, Version, apply_ops};
use redb::ReadableTable;

use crate::latest::Db;
use crate::store::{ENTRIES, META, Namespaced, map_err};

/// A validated unit waiting for the writer.
pub(crate) struct Pending {
    pub(crate) namespace: Arc<str>,
    pub(crate) ops: Vec<EncodedWrite>,
}

/// On the writer: commits the queued `units` as one group and answers each.
pub(crate) fn commit_all(db: &Db, durability: redb::Durability, units: Vec<(Pending, Reply)>) {
    let (units, replies): (Vec<Pending>, Vec<_>) = units.into_iter().unzip();
    match commit(db, durability, &units) {
        Ok(outcomes) => replies
            .into_iter()
            .zip(outcomes)
            .for_each(|(reply, outcome)| reply.send(outcome)),
        // The write transaction failed to begin or commit: no unit of the group was written.
        Err(error) => replies.into_iter().for_each(|reply| reply.send(Err(error.replicate()))),
    }
}

fn commit(db: &Db, durability: redb::Durability, units: &[Pending]) -> Result<Vec<Result<Version>>> {
    let mut tx = db.begin_write()?;
    tx.set_durability(durability).map_err(|e| Error::backend("redb", e))?;
    let mut last = tx
        .open_table(META)
        .map_err(map_err)?
        .get("last_version")
        .map_err(map_err)?
        .map_or(0, |v| v.value());
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
                let mut recorded = Recorded { kv, undo: Vec::new() };
                let outcome = apply_ops(&mut recorded, &unit.ops, version);
                if outcome.is_err() {
                    recorded.revert()?;
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

/// A namespace's entries that remember what each write replaced, so one unit can be undone
/// inside a transaction that others share.
struct Recorded<'k, 't, 'n> {
    kv: Namespaced<'k, 't, 'n>,
    undo: Vec<(Vec<u8>, Option<Stored>)>,
}

impl Recorded<'_, '_, '_> {
    fn revert(mut self) -> Result<()> {
        while let Some((key, previous)) = self.undo.pop() {
            match previous {
                Some(stored) => self.kv.put(&key, &stored.value, stored.version)?,
                None => self.kv.remove(&key)?,
            }
        }
        Ok(())
    }
}

impl OrderedKv for Recorded<'_, '_, '_> {
    fn get(&self, key: &[u8]) -> Result<Option<Stored>> {
        self.kv.get(key)
    }
    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<()> {
        let previous = self.kv.replace(key, value, version)?;
        self.undo.push((key.to_vec(), previous));
        Ok(())
    }
    fn remove(&mut self, key: &[u8]) -> Result<()> {
        if let Some(previous) = self.kv.take(key)? {
            self.undo.push((key.to_vec(), Some(previous)));
        }
        Ok(())
    }
    fn remove_range(&mut self, range: &ByteRange) -> Result<()> {
        for key in self.kv.keys(range)? {
            self.remove(&key)?;
        }
        Ok(())
    }
    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)> {
        self.kv.fingerprint(range)
    }
}
