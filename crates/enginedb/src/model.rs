//! Values, versions, entries, write ops and the shapes of reads (DESIGN §3).

use std::fmt;

use crate::error::{Error, Result};
use crate::key::{Key, hex};
use crate::limits::MAX_LIST_LIMIT;

/// A stored value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// Opaque bytes, at most [`crate::limits::MAX_VALUE_BYTES`].
    Bytes(Vec<u8>),
    /// A counter, exact over the full i64 range on every adapter; see [`Write::Sum`].
    I64(i64),
}

impl Value {
    /// The bytes this value counts against the unit size limit (8 for a counter).
    pub fn size(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::I64(_) => 8,
        }
    }
}

impl fmt::Display for Value {
    /// A counter as its number, UTF-8 text quoted, other bytes as `0x…` hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I64(n) => write!(f, "{n}"),
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(text) if !text.chars().any(char::is_control) => write!(f, "{text:?}"),
                _ => write!(f, "0x{}", hex(b)),
            },
        }
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}
impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Self {
        Value::Bytes(b.to_vec())
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Bytes(s.as_bytes().to_vec())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::I64(i)
    }
}

/// The commit that last wrote a key. Versions increase in commit order per database: once a
/// reader has seen `V`, no later commit gets a version `<= V`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64);

impl Version {
    /// What a transaction reads back for a key it wrote itself and has not committed yet.
    pub const PENDING: Version = Version(u64::MAX);
    /// The version reported by a sequential unit that wrote nothing (it only checked).
    pub const ZERO: Version = Version(0);

    /// This stored version as a transaction writing `writing` reads it: its own uncommitted
    /// writes read as [`Version::PENDING`].
    pub fn as_seen_by(self, writing: Option<Version>) -> Version {
        if Some(self) == writing { Version::PENDING } else { self }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

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

    /// The single key this op addresses, if it addresses one.
    pub fn key(&self) -> Option<&Key> {
        match self {
            Write::Check { key, .. }
            | Write::Set { key, .. }
            | Write::Insert { key, .. }
            | Write::Delete { key }
            | Write::Sum { key, .. } => Some(key),
            Write::CheckRange { .. } | Write::DeleteRange { .. } => None,
        }
    }

    /// Whether this op only states a precondition and writes nothing.
    pub fn is_precondition(&self) -> bool {
        matches!(self, Write::Check { .. } | Write::CheckRange { .. })
    }
}

/// A half-open span `[start, end)` of encoded keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// First encoded key included.
    pub start: Vec<u8>,
    /// First encoded key excluded.
    pub end: Vec<u8>,
}

impl ByteRange {
    /// Whether `encoded` lies in the span.
    pub fn contains(&self, encoded: &[u8]) -> bool {
        self.start.as_slice() <= encoded && encoded < self.end.as_slice()
    }

    /// Whether the span holds no key at all.
    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", hex(&self.start), hex(&self.end))
    }
}

/// Which keys a `list` or `DeleteRange` covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Selector {
    /// Every key that strictly extends the prefix (the prefix key itself is not included).
    Prefix(Key),
    /// Every key `k` with `start <= k < end`. `start > end` is invalid input.
    Range {
        /// First key included.
        start: Key,
        /// First key excluded.
        end: Key,
    },
    /// Every key that strictly extends `prefix` and is `>= start`; `start` must begin with
    /// `prefix`.
    PrefixFrom {
        /// The prefix.
        prefix: Key,
        /// First key included.
        start: Key,
    },
}

impl Selector {
    /// The span of encoded keys this selector covers.
    ///
    /// # Errors
    /// `InvalidInput` for a `Range` whose start is after its end, or a `PrefixFrom` whose start
    /// does not begin with its prefix.
    pub fn byte_range(&self) -> Result<ByteRange> {
        match self {
            Selector::Prefix(prefix) => {
                let (start, end) = prefix.prefix_range();
                Ok(ByteRange { start, end })
            }
            Selector::Range { start, end } => {
                if start > end {
                    return Err(Error::invalid(format!("range start {start} is after its end {end}")));
                }
                Ok(ByteRange {
                    start: start.encode(),
                    end: end.encode(),
                })
            }
            Selector::PrefixFrom { prefix, start } => {
                if !start.starts_with(prefix) {
                    return Err(Error::invalid(format!(
                        "start {start} does not begin with prefix {prefix}"
                    )));
                }
                let (lo, end) = prefix.prefix_range();
                Ok(ByteRange {
                    start: lo.max(start.encode()),
                    end,
                })
            }
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
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let digits = s.as_bytes();
        if digits.len() % 2 != 0 {
            return Err(Error::invalid("cursor hex has an odd length"));
        }
        digits
            .chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
                    .ok_or_else(|| Error::invalid("cursor is not hex"))
            })
            .collect::<Result<Vec<u8>>>()
            .map(Cursor)
    }
}
