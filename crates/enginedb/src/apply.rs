//! The reference semantics of a unit of write ops, over any ordered key-value map.
//!
//! [`apply_ops`] is the one implementation of what `Check`, `CheckRange`, `Set`, `Insert`,
//! `Delete`, `DeleteRange` and `Sum` mean. [`crate::MemoryDb`] runs it on its in-memory map,
//! the sequential mode of [`crate::run_atomic_writes`] dry-runs units through it, and adapters
//! over a key-value engine (redb) run it inside their write transaction by implementing
//! [`OrderedKv`].

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::error::{Error, Result, SumFailure};
use crate::list::ListPlan;
use crate::model::{ByteRange, Value, Version, Write};

/// A stored value and the version of the commit that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The value.
    pub value: Value,
    /// The commit that wrote it.
    pub version: Version,
}

/// An ordered map of encoded keys to [`Stored`] values, as one write transaction sees it.
pub trait OrderedKv {
    /// The value at `key`.
    ///
    /// # Errors
    /// The backend's, or `Corrupt` for stored bytes that do not decode.
    fn get(&self, key: &[u8]) -> Result<Option<Stored>>;
    /// Stores `stored` at `key`.
    ///
    /// # Errors
    /// The backend's.
    fn put(&mut self, key: &[u8], stored: Stored) -> Result<()>;
    /// Removes `key` (absent is fine).
    ///
    /// # Errors
    /// The backend's.
    fn remove(&mut self, key: &[u8]) -> Result<()>;
    /// Removes every key in `range`.
    ///
    /// # Errors
    /// The backend's.
    fn remove_range(&mut self, range: &ByteRange) -> Result<()>;
    /// How many keys `range` holds, and their largest version.
    ///
    /// # Errors
    /// The backend's, or `Corrupt`.
    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)>;
}

/// Applies `ops` in order, stamping `version` on every key written. Stops at the first failing
/// op with an error naming its index; what earlier ops did is then still in `kv`, so the caller
/// must discard it (abort its transaction).
///
/// # Errors
/// `CheckFailed`, `SumFailed`, `InvalidInput` (a bad selector), or `kv`'s own errors.
pub fn apply_ops(kv: &mut impl OrderedKv, ops: &[Write], version: Version) -> Result<()> {
    for (index, op) in ops.iter().enumerate() {
        apply_op(kv, op, version, index)?;
    }
    Ok(())
}

fn apply_op(kv: &mut impl OrderedKv, op: &Write, version: Version, index: usize) -> Result<()> {
    let stored = |value: &Value| Stored {
        value: value.clone(),
        version,
    };
    match op {
        Write::Check { key, version: expected } => {
            if kv.get(&key.encode())?.map(|s| s.version) != *expected {
                return Err(Error::CheckFailed { index });
            }
        }
        Write::CheckRange {
            range,
            count,
            max_version,
        } => {
            if kv.fingerprint(range)? != (*count, *max_version) {
                return Err(Error::CheckFailed { index });
            }
        }
        Write::Set { key, value } => kv.put(&key.encode(), stored(value))?,
        Write::Insert { key, value } => {
            let encoded = key.encode();
            if kv.get(&encoded)?.is_some() {
                return Err(Error::CheckFailed { index });
            }
            kv.put(&encoded, stored(value))?;
        }
        Write::Delete { key } => kv.remove(&key.encode())?,
        Write::DeleteRange { range } => kv.remove_range(&range.byte_range()?)?,
        Write::Sum { key, delta } => {
            let encoded = key.encode();
            let current = match kv.get(&encoded)?.map(|s| s.value) {
                None => 0,
                Some(Value::I64(n)) => n,
                Some(Value::Bytes(_)) => {
                    return Err(Error::SumFailed {
                        index,
                        reason: SumFailure::NotACounter,
                    });
                }
            };
            let sum = current.checked_add(*delta).ok_or(Error::SumFailed {
                index,
                reason: SumFailure::Overflow,
            })?;
            kv.put(&encoded, stored(&Value::I64(sum)))?;
        }
    }
    Ok(())
}

/// Encoded key → stored value: the in-memory map of [`crate::MemoryDb`].
pub(crate) type State = BTreeMap<Vec<u8>, Stored>;

/// A [`State`] that records what it overwrites, so a failed unit can be undone exactly.
struct Undoable<'s> {
    state: &'s mut State,
    undo: Vec<(Vec<u8>, Option<Stored>)>,
}

impl OrderedKv for Undoable<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Stored>> {
        Ok(self.state.get(key).cloned())
    }
    fn put(&mut self, key: &[u8], stored: Stored) -> Result<()> {
        let previous = self.state.insert(key.to_vec(), stored);
        self.undo.push((key.to_vec(), previous));
        Ok(())
    }
    fn remove(&mut self, key: &[u8]) -> Result<()> {
        if let Some(previous) = self.state.remove(key) {
            self.undo.push((key.to_vec(), Some(previous)));
        }
        Ok(())
    }
    fn remove_range(&mut self, range: &ByteRange) -> Result<()> {
        let doomed: Vec<Vec<u8>> = span(self.state, range).map(|(k, _)| k.clone()).collect();
        doomed.iter().try_for_each(|key| self.remove(key))
    }
    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)> {
        Ok(span(self.state, range).fold((0, None), |(count, max), (_, s)| (count + 1, max.max(Some(s.version)))))
    }
}

/// Applies `ops` to `state` with `version`. On error the state is restored exactly. Returns
/// the keys written.
pub(crate) fn apply_unit(state: &mut State, ops: &[Write], version: Version) -> Result<Vec<Vec<u8>>> {
    let mut undoable = Undoable {
        state,
        undo: Vec::new(),
    };
    match apply_ops(&mut undoable, ops, version) {
        Ok(()) => Ok(undoable.undo.into_iter().map(|(key, _)| key).collect()),
        Err(error) => {
            let Undoable { state, undo } = undoable;
            for (key, previous) in undo.into_iter().rev() {
                match previous {
                    Some(stored) => state.insert(key, stored),
                    None => state.remove(&key),
                };
            }
            Err(error)
        }
    }
}

/// The entries of `state` inside `range`, ascending.
pub(crate) fn span<'s>(
    state: &'s State,
    range: &ByteRange,
) -> impl DoubleEndedIterator<Item = (&'s Vec<u8>, &'s Stored)> {
    // `BTreeMap::range` panics on an inverted range: an empty span reads nothing instead.
    let bounds = (Bound::Included(range.start.clone()), Bound::Excluded(range.end.clone()));
    (!range.is_empty()).then(|| state.range(bounds)).into_iter().flatten()
}

/// The rows a [`ListPlan`] reads from `state`, in plan order.
pub(crate) fn scan(state: &State, plan: &ListPlan) -> Vec<(Vec<u8>, Value, Version)> {
    let row = |(k, s): (&Vec<u8>, &Stored)| (k.clone(), s.value.clone(), s.version);
    let rows = span(state, &plan.range);
    if plan.reverse {
        rows.rev().take(plan.fetch()).map(row).collect()
    } else {
        rows.take(plan.fetch()).map(row).collect()
    }
}
