//! Entries, write ops and the shapes of reads (DESIGN §3).

use std::fmt;

use crate::error::{Error, Result};
use crate::key::{Key, hex};
use crate::limits::MAX_LIST_LIMIT;
use crate::value::Value;
use crate::version::Version;

/// A stored key with its value and the version of the commit that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: Key,
    /// Its value.
    pub value: Value,
    /// The commit that last wrote it.
    pub version: Version,
}

/// One write op. A unit of ops is applied in order, all or nothing (see
/// [`crate::run_atomic_writes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Precondition: the key is at `version`, or absent when `None`. Else `CheckFailed`.
    Check {
        /// The key checked.
        key: Key,
        /// The version it must have; `None` means "must be absent".
        version: Option<Version>,
    },
    /// Precondition on a span of keys: it holds exactly `count` keys whose largest version is
    /// `max_version` (`None` when empty). Else `CheckFailed`. Versions only grow, so any insert,
    /// update or delete inside the span changes this fingerprint; optimistic transactions use it
    /// to catch phantoms.
    CheckRange {
        /// The span, as encoded-key bytes.
        range: ByteRange,
        /// How many keys it must hold.
        count: u64,
        /// The largest version among them.
        max_version: Option<Version>,
    },
    /// Upsert.
    Set {
        /// The key written.
        key: Key,
        /// Its new value.
        value: Value,
    },
    /// Upsert at a key known only at commit: `prefix` followed by the commit's version and `n`,
    /// the number of versionstamped writes before this one in the same commit, as two `Int`
    /// parts ([`Key::versionstamped`]). With versions in commit order, such keys list in commit
    /// order, and a reader that has listed them up to version V never later finds one ≤ V.
    /// In a unit it applies in its place among the ops; a transaction makes its versionstamped
    /// writes at commit, after its other writes, and does not read them (their keys are not
    /// known before it commits).
    SetVersionstamped {
        /// The leading parts of the key written.
        prefix: Key,
        /// The value.
        value: Value,
    },
    /// Set if absent; if the key exists the unit fails with `CheckFailed`.
    Insert {
        /// The key written.
        key: Key,
        /// Its value.
        value: Value,
    },
    /// Remove the key; an absent key is not an error.
    Delete {
        /// The key removed.
        key: Key,
    },
    /// Remove every key the selector covers.
    DeleteRange {
        /// The keys removed.
        range: Selector,
    },
    /// Add `delta` to an `I64` counter (absent counts as 0). Overflow, or a `Bytes` value under
    /// the key, fails the unit with `SumFailed`; nothing wraps or clamps.
    Sum {
        /// The counter.
        key: Key,
        /// What to add (may be negative).
        delta: i64,
    },
    /// Keep the smaller of the `I64` counter and `operand` (absent: `operand`). A `Bytes` value
    /// under the key fails the unit with `SumFailed`.
    Min {
        /// The counter.
        key: Key,
        /// The value compared with it.
        operand: i64,
    },
    /// Keep the larger of the `I64` counter and `operand` (absent: `operand`). A `Bytes` value
    /// under the key fails the unit with `SumFailed`.
    Max {
        /// The counter.
        key: Key,
        /// The value compared with it.
        operand: i64,
    },
}

impl Write {
    /// `Check` that `key` is at `version` (`None`: absent).
    pub fn check(key: Key, version: Option<Version>) -> Self {
        Write::Check { key, version }
    }
    /// `Set` `key` to `value`.
    pub fn set(key: Key, value: impl Into<Value>) -> Self {
        Write::Set {
            key,
            value: value.into(),
        }
    }
    /// `SetVersionstamped`: `value` at `prefix` + (commit version, n).
    pub fn set_versionstamped(prefix: Key, value: impl Into<Value>) -> Self {
        Write::SetVersionstamped {
            prefix,
            value: value.into(),
        }
    }
    /// `Insert` `value` at an absent `key`.
    pub fn insert(key: Key, value: impl Into<Value>) -> Self {
        Write::Insert {
            key,
            value: value.into(),
        }
    }
    /// `Delete` `key`.
    pub fn delete(key: Key) -> Self {
        Write::Delete { key }
    }
    /// `DeleteRange` over `range`.
    pub fn delete_range(range: Selector) -> Self {
        Write::DeleteRange { range }
    }
    /// `Sum` `delta` into the counter at `key`.
    pub fn sum(key: Key, delta: i64) -> Self {
        Write::Sum { key, delta }
    }
    /// `Min` of the counter at `key` and `operand`.
    pub fn min(key: Key, operand: i64) -> Self {
        Write::Min { key, operand }
    }
    /// `Max` of the counter at `key` and `operand`.
    pub fn max(key: Key, operand: i64) -> Self {
        Write::Max { key, operand }
    }

    /// The single key this op addresses, if it addresses one.
    pub fn key(&self) -> Option<&Key> {
        match self {
            Write::Check { key, .. }
            | Write::Set { key, .. }
            | Write::Insert { key, .. }
            | Write::Delete { key }
            | Write::Sum { key, .. }
            | Write::Min { key, .. }
            | Write::Max { key, .. } => Some(key),
            Write::CheckRange { .. } | Write::DeleteRange { .. } | Write::SetVersionstamped { .. } => None,
        }
    }

    /// Whether this op only states a precondition and writes nothing.
    pub fn is_precondition(&self) -> bool {
        matches!(self, Write::Check { .. } | Write::CheckRange { .. })
    }
}

/// A half-open span `[start, end)` of stored key bytes, in byte order; `end: None` leaves it
/// unbounded above.
///
/// Only the empty prefix reaches past the encodings of keys: its span is the whole key space
/// of a namespace, `[b"", ∞)` ([`ByteRange::WHOLE`]), so a stored row whose key does not start
/// with the format byte lies inside it and reads as `Corrupt` instead of being skipped. An
/// adapter translates an unbounded end into its own terms (no upper bound in SQL, the end of
/// the namespace in a shared table, an unbounded `BTreeMap` range).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// First key bytes included.
    pub start: Vec<u8>,
    /// First key bytes excluded; `None`: no upper bound.
    pub end: Option<Vec<u8>>,
}

impl ByteRange {
    /// Every byte string: the span of the empty prefix.
    pub const WHOLE: ByteRange = ByteRange {
        start: Vec::new(),
        end: None,
    };

    /// The span `[start, end)`.
    pub fn new(start: Vec<u8>, end: Vec<u8>) -> Self {
        ByteRange { start, end: Some(end) }
    }

    /// Whether `encoded` lies in the span.
    pub fn contains(&self, encoded: &[u8]) -> bool {
        self.start.as_slice() <= encoded && self.end.as_deref().is_none_or(|end| encoded < end)
    }

    /// Whether the span holds no key at all.
    pub fn is_empty(&self) -> bool {
        self.end.as_ref().is_some_and(|end| self.start >= *end)
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.end {
            Some(end) => write!(f, "[{}, {})", hex(&self.start), hex(end)),
            None => write!(f, "[{}, ∞)", hex(&self.start)),
        }
    }
}

/// Which keys a `list` or `DeleteRange` covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Selector {
    /// Every key that strictly extends `prefix` (the prefix key itself is not included),
    /// optionally only from `start` (included) and/or up to `end` (excluded); both bounds must
    /// begin with the prefix.
    Prefix {
        /// The prefix.
        prefix: Key,
        /// First key included, if bounded below.
        start: Option<Key>,
        /// First key excluded, if bounded above.
        end: Option<Key>,
    },
    /// Every key `k` with `start <= k < end`. `start > end` is invalid input.
    Range {
        /// First key included.
        start: Key,
        /// First key excluded.
        end: Key,
    },
}

impl Selector {
    /// Every key that strictly extends `prefix`.
    pub fn prefix(prefix: Key) -> Self {
        Selector::Prefix {
            prefix,
            start: None,
            end: None,
        }
    }

    /// Every key `k` with `start <= k < end`.
    pub fn range(start: Key, end: Key) -> Self {
        Selector::Range { start, end }
    }

    /// This selector from `key` on (included).
    #[must_use]
    pub fn start(self, key: Key) -> Self {
        match self {
            Selector::Prefix { prefix, end, .. } => Selector::Prefix {
                prefix,
                start: Some(key),
                end,
            },
            Selector::Range { end, .. } => Selector::Range { start: key, end },
        }
    }

    /// This selector up to `key` (excluded).
    #[must_use]
    pub fn end(self, key: Key) -> Self {
        match self {
            Selector::Prefix { prefix, start, .. } => Selector::Prefix {
                prefix,
                start,
                end: Some(key),
            },
            Selector::Range { start, .. } => Selector::Range { start, end: key },
        }
    }

    /// The span of stored key bytes this selector covers: a prefix's strict extensions, the
    /// encodings from a range's start to its end. The empty prefix covers the whole key space,
    /// `[b"", ∞)`, narrowed by its bounds if any: rows whose key bytes are no key's encoding
    /// lie in it (and read as `Corrupt`), so a list of everything never skips one. Every other
    /// span lies between two key encodings.
    ///
    /// # Errors
    /// `InvalidInput` for bounds that are inverted or, for a prefix, do not begin with it.
    pub fn byte_range(&self) -> Result<ByteRange> {
        let inverted = || Error::invalid(format!("{self} starts after its end"));
        match self {
            Selector::Prefix { prefix, start, end } => {
                let (mut lo, mut hi) = if prefix.is_empty() {
                    (Vec::new(), None)
                } else {
                    let (lo, hi) = prefix.prefix_range();
                    (lo, Some(hi))
                };
                for bound in [start, end].into_iter().flatten() {
                    if !bound.starts_with(prefix) {
                        return Err(Error::invalid(format!(
                            "bound {bound} does not begin with prefix {prefix}"
                        )));
                    }
                }
                if let (Some(start), Some(end)) = (start, end)
                    && start > end
                {
                    return Err(inverted());
                }
                if let Some(start) = start {
                    lo = lo.max(start.encode());
                }
                if let Some(end) = end {
                    // An end at the prefix itself (before every extension) selects no key (the
                    // empty prefix's: only stored bytes below the format byte).
                    let end = match hi {
                        Some(hi) => hi.min(end.encode()),
                        None => end.encode(),
                    };
                    hi = Some(end.max(lo.clone()));
                }
                Ok(ByteRange { start: lo, end: hi })
            }
            Selector::Range { start, end } if start > end => Err(inverted()),
            Selector::Range { start, end } => Ok(ByteRange::new(start.encode(), end.encode())),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Prefix { prefix, start, end } => {
                write!(f, "prefix {prefix}")?;
                if let Some(start) = start {
                    write!(f, " from {start}")?;
                }
                if let Some(end) = end {
                    write!(f, " until {end}")?;
                }
                Ok(())
            }
            Selector::Range { start, end } => write!(f, "range [{start}, {end})"),
        }
    }
}

/// Options of a `list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOptions {
    /// At most this many entries (1 to [`MAX_LIST_LIMIT`]).
    pub limit: usize,
    /// Descending key order when true.
    pub reverse: bool,
    /// Resume after the last entry of an earlier page of the same selector and direction.
    pub cursor: Option<Cursor>,
}

impl Default for ListOptions {
    /// The largest page, ascending, from the start.
    fn default() -> Self {
        ListOptions {
            limit: MAX_LIST_LIMIT,
            reverse: false,
            cursor: None,
        }
    }
}

impl ListOptions {
    /// Ascending pages of at most `limit` entries.
    pub fn limit(limit: usize) -> Self {
        ListOptions {
            limit,
            ..ListOptions::default()
        }
    }

    /// These options in descending order.
    #[must_use]
    pub fn reversed(mut self) -> Self {
        self.reverse = true;
        self
    }

    /// These options resuming at `cursor`.
    #[must_use]
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of a `list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The entries, in key order (descending when reversed).
    pub entries: Vec<Entry>,
    /// Present when more entries followed this page at read time; pass it to resume.
    pub cursor: Option<Cursor>,
}

const CURSOR_V1_FORWARD: u8 = 0x01;
const CURSOR_V1_REVERSE: u8 = 0x02;

/// An opaque keyset position: resuming returns exactly the entries after the last one returned,
/// whatever was inserted or deleted meanwhile. Its bytes are stable (`as_bytes`/`from_bytes`)
/// and its `Display`/`FromStr` form is hex, for URLs and JSON.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor(Vec<u8>);

impl Cursor {
    /// The cursor after `last` (an encoded key) in the given direction.
    pub(crate) fn after_key(last: &[u8], reverse: bool) -> Self {
        let mut bytes = Vec::with_capacity(last.len() + 1);
        bytes.push(if reverse { CURSOR_V1_REVERSE } else { CURSOR_V1_FORWARD });
        bytes.extend_from_slice(last);
        Cursor(bytes)
    }

    /// The stable byte form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A cursor from its byte form; it is validated when used.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Cursor(bytes)
    }

    /// `(last encoded key, reverse)`, or `InvalidInput` for bytes no cursor has.
    pub(crate) fn position(&self) -> Result<(&[u8], bool)> {
        match self.0.split_first() {
            Some((&CURSOR_V1_FORWARD, key)) => Ok((key, false)),
            Some((&CURSOR_V1_REVERSE, key)) => Ok((key, true)),
            _ => Err(Error::invalid("malformed cursor")),
        }
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    /// Strict hex: digits only, two per byte.
    fn from_str(s: &str) -> Result<Self> {
        hex::decode(s)
            .map(Cursor)
            .map_err(|e| Error::invalid(format!("the cursor is not hex: {e}")))
    }
}
