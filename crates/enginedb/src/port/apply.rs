//! The reference semantics of a unit of write ops, over any ordered key-value map.
//!
//! Storage works on encoded keys, so a unit is first turned into [`EncodedWrite`]s: owned,
//! one allocation per key, cheap to hand to an adapter's writer thread.
//! [`apply_ops`] is the one implementation of what each op means. [`crate::MemoryDb`] runs it
//! on its in-memory map, the sequential mode of [`crate::run_atomic_writes`] dry-runs units
//! through it, and adapters over a key-value engine (redb) run it inside their write
//! transaction by implementing [`OrderedKv`].

use std::collections::BTreeMap;
use std::ops::Bound;

use super::plan::ListPlan;
use crate::codec::versionstamp;
use crate::error::{Error, Result, SumFailure};
use crate::model::{ByteRange, Write};
use crate::value::Value;
use crate::version::Version;

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
    /// [`Write::SetVersionstamped`]: written at `prefix` + [`versionstamp`]`(version, n)`.
    SetVersionstamped {
        /// The encoded prefix.
        prefix: Vec<u8>,
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
    /// [`Write::Min`].
    Min {
        /// The encoded key.
        key: Vec<u8>,
        /// The value compared.
        operand: i64,
    },
    /// [`Write::Max`].
    Max {
        /// The encoded key.
        key: Vec<u8>,
        /// The value compared.
        operand: i64,
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
            Write::SetVersionstamped { prefix, value } => EncodedWrite::SetVersionstamped {
                prefix: prefix.encode(),
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
            Write::Min { key, operand } => EncodedWrite::Min {
                key: key.encode(),
                operand: *operand,
            },
            Write::Max { key, operand } => EncodedWrite::Max {
                key: key.encode(),
                operand: *operand,
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
    /// Stores `value` at `key`, written by `version`; returns what it replaced.
    ///
    /// # Errors
    /// The backend's.
    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<Option<Stored>>;
    /// Removes `key` (absent is fine); returns what it removed.
    ///
    /// # Errors
    /// The backend's.
    fn remove(&mut self, key: &[u8]) -> Result<Option<Stored>>;
    /// The keys in `range`, ascending.
    ///
    /// # Errors
    /// The backend's.
    fn keys(&self, range: &ByteRange) -> Result<Vec<Vec<u8>>>;
    /// How many keys `range` holds, and their largest version.
    ///
    /// # Errors
    /// The backend's, or `Corrupt`.
    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)>;
    /// Removes every key in `range`; by default key by key.
    ///
    /// # Errors
    /// The backend's.
    fn remove_range(&mut self, range: &ByteRange) -> Result<()> {
        for key in self.keys(range)? {
            self.remove(&key)?;
        }
        Ok(())
    }
}

/// Applies `ops` in order, stamping `version` on every key written, as one commit: the `n`
/// of its versionstamped writes counts them from 0 (see [`stamped_keys`]). Stops at the first
/// failing op with an error naming its index; what earlier ops did is then still in `kv`, so
/// the caller must discard it (abort its transaction, or [`UndoLog::undo`]).
///
/// # Errors
/// `CheckFailed`, `SumFailed`, or `kv`'s own errors.
pub fn apply_ops(kv: &mut impl OrderedKv, ops: &[EncodedWrite], version: Version) -> Result<()> {
    let mut stamped = stamped_keys(version);
    for (index, op) in ops.iter().enumerate() {
        if let EncodedWrite::SetVersionstamped { prefix, value } = op {
            kv.put(&stamped(prefix)?, value, version)?;
        } else {
            apply_op(kv, op, version, index)?;
        }
    }
    Ok(())
}

/// The keys of one commit's versionstamped writes, in order: each call appends the next
/// [`versionstamp`]`(version, n)` (`n` = 0, 1, …) to the prefix given.
///
/// # Errors
/// `InvalidInput` for a version beyond `i64::MAX` or more than `u32::MAX` stamped writes.
pub fn stamped_keys(version: Version) -> impl FnMut(&[u8]) -> Result<Vec<u8>> {
    let mut n: u32 = 0;
    move |prefix| {
        let stamp = versionstamp(version, n)?;
        n = n
            .checked_add(1)
            .ok_or_else(|| Error::invalid("too many versionstamped writes"))?;
        let mut key = Vec::with_capacity(prefix.len() + stamp.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(&stamp);
        Ok(key)
    }
}

/// Which counter op: `Sum`, `Min` or `Max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CounterOp {
    Sum,
    Min,
    Max,
}

/// The counter after `op` with `operand` on `current` (absent counts as 0 for a sum, as the
/// operand for min and max). `SumFailed` at `index` for bytes or an overflow.
pub(crate) fn update_counter(current: Option<&Value>, op: CounterOp, operand: i64, index: usize) -> Result<i64> {
    let current = match current {
        None => None,
        Some(Value::I64(n)) => Some(*n),
        Some(Value::Bytes(_)) => return Err(Error::sum_failed(index, SumFailure::NotACounter)),
    };
    match (op, current) {
        (CounterOp::Sum, n) => n
            .unwrap_or(0)
            .checked_add(operand)
            .ok_or(Error::sum_failed(index, SumFailure::Overflow)),
        (_, None) => Ok(operand),
        (CounterOp::Min, Some(n)) => Ok(n.min(operand)),
        (CounterOp::Max, Some(n)) => Ok(n.max(operand)),
    }
}

fn apply_counter(
    kv: &mut impl OrderedKv,
    key: &[u8],
    op: CounterOp,
    operand: i64,
    version: Version,
    index: usize,
) -> Result<()> {
    let current = kv.get(key)?.map(|s| s.value);
    let updated = update_counter(current.as_ref(), op, operand, index)?;
    kv.put(key, &Value::I64(updated), version).map(drop)
}

fn apply_op(kv: &mut impl OrderedKv, op: &EncodedWrite, version: Version, index: usize) -> Result<()> {
    match op {
        EncodedWrite::Check { key, version: expected } => {
            if kv.get(key)?.map(|s| s.version) != *expected {
                return Err(Error::check_failed(index));
            }
        }
        EncodedWrite::CheckRange {
            range,
            count,
            max_version,
        } => {
            if kv.fingerprint(range)? != (*count, *max_version) {
                return Err(Error::check_failed(index));
            }
        }
        EncodedWrite::Set { key, value } => drop(kv.put(key, value, version)?),
        // Keyed by the commit: `apply_ops` writes it.
        EncodedWrite::SetVersionstamped { .. } => {}
        EncodedWrite::Insert { key, value } => {
            if kv.get(key)?.is_some() {
                return Err(Error::check_failed(index));
            }
            kv.put(key, value, version)?;
        }
        EncodedWrite::Delete { key } => drop(kv.remove(key)?),
        EncodedWrite::DeleteRange { range } => kv.remove_range(range)?,
        EncodedWrite::Sum { key, delta } => apply_counter(kv, key, CounterOp::Sum, *delta, version, index)?,
        EncodedWrite::Min { key, operand } => apply_counter(kv, key, CounterOp::Min, *operand, version, index)?,
        EncodedWrite::Max { key, operand } => apply_counter(kv, key, CounterOp::Max, *operand, version, index)?,
    }
    Ok(())
}

/// An [`OrderedKv`] that records what each write replaced, so one unit can be undone exactly
/// inside a transaction that others share (or over a map with no transactions at all).
pub struct UndoLog<'k, K: OrderedKv> {
    kv: &'k mut K,
    replaced: Vec<(Vec<u8>, Option<Stored>)>,
}

impl<'k, K: OrderedKv> UndoLog<'k, K> {
    /// Records the writes made through it to `kv`.
    pub fn new(kv: &'k mut K) -> Self {
        UndoLog {
            kv,
            replaced: Vec::new(),
        }
    }

    /// The keys written so far, in order (repeats included).
    pub fn written(&self) -> impl Iterator<Item = &[u8]> {
        self.replaced.iter().map(|(key, _)| key.as_slice())
    }

    /// Puts back, newest first, everything the recorded writes replaced.
    ///
    /// # Errors
    /// The backend's; the map is then partly restored, so its transaction must be aborted.
    pub fn undo(self) -> Result<()> {
        let UndoLog { kv, replaced } = self;
        for (key, previous) in replaced.into_iter().rev() {
            match previous {
                Some(stored) => kv.put(&key, &stored.value, stored.version)?,
                None => kv.remove(&key)?,
            };
        }
        Ok(())
    }
}

impl<K: OrderedKv> OrderedKv for UndoLog<'_, K> {
    fn get(&self, key: &[u8]) -> Result<Option<Stored>> {
        self.kv.get(key)
    }
    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<Option<Stored>> {
        let previous = self.kv.put(key, value, version)?;
        self.replaced.push((key.to_vec(), previous.clone()));
        Ok(previous)
    }
    fn remove(&mut self, key: &[u8]) -> Result<Option<Stored>> {
        let previous = self.kv.remove(key)?;
        if previous.is_some() {
            self.replaced.push((key.to_vec(), previous.clone()));
        }
        Ok(previous)
    }
    fn keys(&self, range: &ByteRange) -> Result<Vec<Vec<u8>>> {
        self.kv.keys(range)
    }
    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)> {
        self.kv.fingerprint(range)
    }
}

/// Encoded key → stored value: the in-memory map of [`crate::MemoryDb`].
pub(crate) type State = BTreeMap<Vec<u8>, Stored>;

impl OrderedKv for State {
    fn get(&self, key: &[u8]) -> Result<Option<Stored>> {
        Ok(BTreeMap::get(self, key).cloned())
    }
    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<Option<Stored>> {
        let stored = Stored {
            value: value.clone(),
            version,
        };
        Ok(self.insert(key.to_vec(), stored))
    }
    fn remove(&mut self, key: &[u8]) -> Result<Option<Stored>> {
        Ok(BTreeMap::remove(self, key))
    }
    fn keys(&self, range: &ByteRange) -> Result<Vec<Vec<u8>>> {
        Ok(span(self, range).map(|(k, _)| k.clone()).collect())
    }
    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)> {
        Ok(span(self, range).fold((0, None), |(count, max), (_, s)| (count + 1, max.max(Some(s.version)))))
    }
}

/// Applies `ops` to `state` with `version`, all or nothing: on error the state is restored
/// exactly. Returns the keys written.
pub(crate) fn apply_unit(state: &mut State, ops: &[EncodedWrite], version: Version) -> Result<Vec<Vec<u8>>> {
    let mut log = UndoLog::new(state);
    match apply_ops(&mut log, ops, version) {
        Ok(()) => Ok(log.written().map(<[u8]>::to_vec).collect()),
        Err(error) => {
            log.undo()?;
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
    let end = range
        .end
        .as_ref()
        .map_or(Bound::Unbounded, |end| Bound::Excluded(end.as_slice()));
    let bounds = (Bound::Included(range.start.as_slice()), end);
    (!range.is_empty())
        .then(|| state.range::<[u8], _>(bounds))
        .into_iter()
        .flatten()
}

/// The rows a [`ListPlan`] reads from `state`, in plan order.
///
/// # Errors
/// `Corrupt` for a row whose version no commit has (see [`Version::stored`]).
pub(crate) fn scan(state: &State, plan: &ListPlan) -> Result<Vec<(Vec<u8>, Value, Version)>> {
    let row = |(k, s): (&Vec<u8>, &Stored)| Ok((k.clone(), s.value.clone(), Version::stored(s.version.0)?));
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
            Write::delete_range(Selector::prefix(key!["c"])),
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
                    range: ByteRange::new(start, end),
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
