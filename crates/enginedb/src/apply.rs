//! The reference semantics of a unit of write ops, over any ordered key-value map.
//!
//! Storage works on encoded keys, so a unit is first turned into [`EncodedWrite`]s: owned,
//! one allocation per key, cheap to hand to an adapter's writer thread.
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

/// A [`Write`] with its key encoded and its span resolved to bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodedWrite {
    /// [`Write::Check`].
    Check {
        /// The encoded key.
        key: Vec<u8>,
        /// The version it must have; `None`: absent.
        version: Option<Version>,
    },
    /// [`Write::CheckRange`].
    CheckRange {
        /// The span.
        range: ByteRange,
        /// How many keys it must hold.
        count: u64,
        /// Their largest version.
        max_version: Option<Version>,
    },
    /// [`Write::Set`].
    Set {
        /// The encoded key.
        key: Vec<u8>,
        /// The value.
        value: Value,
    },
    /// [`Write::Insert`].
    Insert {
        /// The encoded key.
        key: Vec<u8>,
        /// The value.
        value: Value,
    },
    /// [`Write::Delete`].
    Delete {
        /// The encoded key.
        key: Vec<u8>,
    },
    /// [`Write::DeleteRange`].
    DeleteRange {
        /// The span its selector covers.
        range: ByteRange,
    },
    /// [`Write::Sum`].
    Sum {
        /// The encoded key.
        key: Vec<u8>,
        /// The amount added.
        delta: i64,
    },
}

impl EncodedWrite {
    /// The ops of a unit, encoded in order.
    ///
    /// # Errors
    /// `InvalidInput` for a `DeleteRange` whose selector is invalid (a validated unit has none).
    pub fn unit(ops: &[Write]) -> Result<Vec<EncodedWrite>> {
        ops.iter().map(EncodedWrite::new).collect()
    }

    /// One op, encoded.
    ///
    /// # Errors
    /// As [`EncodedWrite::unit`].
    pub fn new(op: &Write) -> Result<EncodedWrite> {
        Ok(match op {
            Write::Check { key, version } => EncodedWrite::Check {
                key: key.encode(),
                version: *version,
            },
            Write::CheckRange {
                range,
                count,
                max_version,
            } => EncodedWrite::CheckRange {
                range: range.clone(),
                count: *count,
                max_version: *max_version,
            },
            Write::Set { key, value } => EncodedWrite::Set {
                key: key.encode(),
                value: value.clone(),
            },
            Write::Insert { key, value } => EncodedWrite::Insert {
                key: key.encode(),
                value: value.clone(),
            },
            Write::Delete { key } => EncodedWrite::Delete { key: key.encode() },
            Write::DeleteRange { range } => EncodedWrite::DeleteRange {
                range: range.byte_range()?,
            },
            Write::Sum { key, delta } => EncodedWrite::Sum {
                key: key.encode(),
                delta: *delta,
            },
        })
    }
}

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
    /// Stores `value` at `key`, written by `version`.
    ///
    /// # Errors
    /// The backend's.
    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<()>;
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
pub fn apply_ops(kv: &mut impl OrderedKv, ops: &[EncodedWrite], version: Version) -> Result<()> {
    for (index, op) in ops.iter().enumerate() {
        apply_op(kv, op, version, index)?;
    }
    Ok(())
}

fn apply_op(kv: &mut impl OrderedKv, op: &EncodedWrite, version: Version, index: usize) -> Result<()> {
    match op {
        EncodedWrite::Check { key, version: expected } => {
            if kv.get(key)?.map(|s| s.version) != *expected {
                return Err(Error::CheckFailed { index });
            }
        }
        EncodedWrite::CheckRange {
            range,
            count,
            max_version,
        } => {
            if kv.fingerprint(range)? != (*count, *max_version) {
                return Err(Error::CheckFailed { index });
            }
        }
        EncodedWrite::Set { key, value } => kv.put(key, value, version)?,
        EncodedWrite::Insert { key, value } => {
            if kv.get(key)?.is_some() {
                return Err(Error::CheckFailed { index });
            }
            kv.put(key, value, version)?;
        }
        EncodedWrite::Delete { key } => kv.remove(key)?,
        EncodedWrite::DeleteRange { range } => kv.remove_range(range)?,
        EncodedWrite::Sum { key, delta } => {
            let current = match kv.get(key)?.map(|s| s.value) {
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
            kv.put(key, &Value::I64(sum), version)?;
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
    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<()> {
        let stored = Stored {
            value: value.clone(),
            version,
        };
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
    let ops = EncodedWrite::unit(ops)?;
    let mut undoable = Undoable {
        state,
        undo: Vec::new(),
    };
    match apply_ops(&mut undoable, &ops, version) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;
    use crate::model::Selector;
    use crate::{ErrorKind, key};

    #[test]
    fn a_unit_is_encoded_op_by_op() {
        let ops = [
            Write::set(key!["a", 1], "x"),
            Write::sum(key!["b"], -2),
            Write::delete_range(Selector::Prefix(key!["c"])),
        ];
        let (start, end) = key!["c"].prefix_range();
        assert_eq!(
            EncodedWrite::unit(&ops).unwrap(),
            vec![
                EncodedWrite::Set {
                    key: key!["a", 1].encode(),
                    value: Value::from("x"),
                },
                EncodedWrite::Sum {
                    key: key!["b"].encode(),
                    delta: -2,
                },
                EncodedWrite::DeleteRange {
                    range: ByteRange { start, end },
                },
            ]
        );
        let backwards = Selector::Range {
            start: key!["z"],
            end: Key::default(),
        };
        let error = EncodedWrite::unit(&[Write::delete_range(backwards)]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
    }
}
