//! The reference semantics of a unit of write ops, over an in-memory ordered map.
//!
//! [`crate::MemoryDb`] stores its data this way, and the sequential mode of
//! [`crate::run_atomic_writes`] dry-runs a unit through it before writing anything.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::error::{Error, Result, SumFailure};
use crate::list::ListPlan;
use crate::model::{ByteRange, Value, Version, Write};

/// A stored value and the version of the commit that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub(crate) value: Value,
    pub(crate) version: Version,
}

/// Encoded key → stored value.
pub(crate) type State = BTreeMap<Vec<u8>, Stored>;

/// Applies `ops` in order, writing `version` on every key written. On error the state is
/// restored exactly and the error names the op's index. Returns the keys written.
pub(crate) fn apply_unit(state: &mut State, ops: &[Write], version: Version) -> Result<Vec<Vec<u8>>> {
    let mut undo = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        if let Err(error) = apply_op(state, op, version, index, &mut undo) {
            for (key, previous) in undo.into_iter().rev() {
                match previous {
                    Some(stored) => state.insert(key, stored),
                    None => state.remove(&key),
                };
            }
            return Err(error);
        }
    }
    Ok(undo.into_iter().map(|(key, _)| key).collect())
}

type Undo = Vec<(Vec<u8>, Option<Stored>)>;

fn apply_op(state: &mut State, op: &Write, version: Version, index: usize, undo: &mut Undo) -> Result<()> {
    let mut put = |state: &mut State, key: Vec<u8>, value: Option<Value>| {
        let previous = match value {
            Some(value) => state.insert(key.clone(), Stored { value, version }),
            None => state.remove(&key),
        };
        undo.push((key, previous));
    };
    match op {
        Write::Check { key, version: expected } => {
            let actual = state.get(&key.encode()).map(|s| s.version);
            if actual != *expected {
                return Err(Error::CheckFailed { index });
            }
        }
        Write::CheckRange {
            range,
            count,
            max_version,
        } => {
            if fingerprint(state, range) != (*count, *max_version) {
                return Err(Error::CheckFailed { index });
            }
        }
        Write::Set { key, value } => put(state, key.encode(), Some(value.clone())),
        Write::Insert { key, value } => {
            let encoded = key.encode();
            if state.contains_key(&encoded) {
                return Err(Error::CheckFailed { index });
            }
            put(state, encoded, Some(value.clone()));
        }
        Write::Delete { key } => {
            let encoded = key.encode();
            if state.contains_key(&encoded) {
                put(state, encoded, None);
            }
        }
        Write::DeleteRange { range } => {
            let range = range.byte_range()?;
            let doomed: Vec<Vec<u8>> = span(state, &range).map(|(k, _)| k.clone()).collect();
            for key in doomed {
                put(state, key, None);
            }
        }
        Write::Sum { key, delta } => {
            let encoded = key.encode();
            let current = match state.get(&encoded).map(|s| &s.value) {
                None => 0,
                Some(Value::I64(n)) => *n,
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
            put(state, encoded, Some(Value::I64(sum)));
        }
    }
    Ok(())
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

/// `(count, max version)` of the keys in `range`.
pub(crate) fn fingerprint(state: &State, range: &ByteRange) -> (u64, Option<Version>) {
    span(state, range).fold((0, None), |(count, max), (_, s)| (count + 1, max.max(Some(s.version))))
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
