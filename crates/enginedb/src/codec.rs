//! The order-preserving byte encoding of tuple keys.
//!
//! # Encoding, format version 1
//!
//! An encoded key is the format byte `0x01` followed by each part in turn:
//!
//! | part        | bytes                                                                 |
//! |-------------|-----------------------------------------------------------------------|
//! | `Bytes(b)`  | `0x01`, `b` with every `0x00` written as `0x00 0xFF`, then `0x00`       |
//! | `Str(s)`    | `0x02`, the UTF-8 of `s` escaped as for bytes, then `0x00`              |
//! | `Int(i)`    | `0x03`, the 8 big-endian bytes of `i` with its sign bit flipped         |
//! | `Bool(b)`   | `0x04` for `false`, `0x05` for `true`                                   |
//!
//! Comparing two encodings with `memcmp` gives the same order as comparing the tuples: parts
//! compare first by type (`Bytes < Str < Int < Bool`), then by value (byte order, UTF-8 byte
//! order, numeric order, `false < true`), and a tuple sorts before all of its extensions. No
//! part starts with `0x00` or `0xFF`, which is what makes [`Key::prefix_range`] exact.
//!
//! The format is stable: a new format gets a new leading byte, and decoding refuses bytes it
//! does not understand with [`Error::Corrupt`], never a panic.

use std::fmt;

use crate::error::{Error, Result};
use crate::key::{Key, KeyPart, hex};
use crate::version::Version;

/// The leading byte of every key encoded with format version 1.
pub const KEY_FORMAT_V1: u8 = 0x01;

const TAG_BYTES: u8 = 0x01;
const TAG_STR: u8 = 0x02;
const TAG_INT: u8 = 0x03;
const TAG_FALSE: u8 = 0x04;
const TAG_TRUE: u8 = 0x05;
const ESCAPE: u8 = 0xFF;

impl Key {
    /// A key made of `parts`.
    pub fn from_parts(parts: Vec<KeyPart>) -> Self {
        parts.into_iter().collect()
    }

    /// The parts of this key, decoded (this allocates; a key's encoding is what it holds).
    pub fn parts(&self) -> Vec<KeyPart> {
        self.raw_parts().map(RawPart::into_part).collect()
    }

    /// Whether this is the empty tuple (valid in selectors, invalid for writes).
    pub fn is_empty(&self) -> bool {
        self.0.len() == 1
    }

    /// This key with `part` appended.
    #[must_use]
    pub fn with(mut self, part: impl Into<KeyPart>) -> Self {
        encode_part(&mut self.0, &part.into());
        self
    }

    /// Whether `prefix`'s parts are the leading parts of this key (a key starts with itself).
    pub fn starts_with(&self, prefix: &Key) -> bool {
        // Parts delimit themselves, so a byte prefix is a part prefix unless the key's next
        // byte continues the prefix's last run (an escaped 0x00: no part starts with 0xFF).
        match self.0.strip_prefix(prefix.0.as_slice()) {
            Some(rest) => rest.first() != Some(&ESCAPE),
            None => false,
        }
    }

    /// The encoded form (format version 1): the bytes this key holds.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The encoded form (format version 1), as an owned copy of [`Key::as_bytes`].
    pub fn encode(&self) -> Vec<u8> {
        self.0.clone()
    }

    /// Appends the encoded form to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }

    /// The length of the encoded form.
    pub fn encoded_len(&self) -> usize {
        self.0.len()
    }

    /// The key whose encoding is `bytes`, checked without decoding its parts.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the bytes are not a well-formed version-1 encoding.
    pub fn decode(bytes: &[u8]) -> Result<Key> {
        check(bytes)?;
        Ok(Key(bytes.to_vec()))
    }

    /// [`Key::decode`] of bytes read from a store, kept without a copy.
    pub(crate) fn from_stored(bytes: Vec<u8>) -> Result<Key> {
        check(&bytes)?;
        Ok(Key(bytes))
    }

    /// The key a versionstamped write ([`crate::Write::SetVersionstamped`]) under `prefix`
    /// got: `prefix` + (`version`, `n`), `n` counting the commit's versionstamped writes from 0.
    ///
    /// # Errors
    /// `InvalidInput` for a version beyond `i64::MAX` (no store draws one).
    pub fn versionstamped(prefix: &Key, version: Version, n: u32) -> Result<Key> {
        let mut key = prefix.clone();
        key.0.extend_from_slice(&versionstamp(version, n)?);
        Ok(key)
    }

    /// The (version, n) a versionstamped write appended to its prefix: this key's last two
    /// parts, when they are two `Int`s that can be one (a version ≥ 1, an `n` ≥ 0).
    pub fn versionstamp(&self) -> Option<(Version, u32)> {
        let parts = self.parts();
        match parts.as_slice() {
            [.., KeyPart::Int(version), KeyPart::Int(n)] if *version > 0 => {
                Some((Version(u64::try_from(*version).ok()?), u32::try_from(*n).ok()?))
            }
            _ => None,
        }
    }

    /// The byte range `[start, end)` holding exactly the encodings of this key's strict
    /// extensions (the key itself excluded).
    pub fn prefix_range(&self) -> (Vec<u8>, Vec<u8>) {
        let mut start = self.0.clone();
        start.push(0x00);
        let mut end = self.0.clone();
        end.push(0xFF);
        (start, end)
    }

    /// The parts as they lie in the encoding. A key's bytes are well formed (every way of
    /// making a key checks them), so this ends exactly at the end of the bytes.
    fn raw_parts(&self) -> impl Iterator<Item = RawPart<'_>> {
        let mut rest = self.0.get(1..).unwrap_or_default();
        std::iter::from_fn(move || {
            let (part, after) = split_part(rest).ok()?;
            rest = after;
            Some(part)
        })
    }
}

impl Default for Key {
    /// The empty tuple.
    fn default() -> Self {
        Key(vec![KEY_FORMAT_V1])
    }
}

impl FromIterator<KeyPart> for Key {
    fn from_iter<I: IntoIterator<Item = KeyPart>>(iter: I) -> Self {
        let mut key = Key::default();
        for part in iter {
            encode_part(&mut key.0, &part);
        }
        key
    }
}

impl From<Key> for Vec<u8> {
    /// The encoding the key holds.
    fn from(key: Key) -> Vec<u8> {
        key.0
    }
}

impl fmt::Display for Key {
    /// A readable tuple: `("users", 42, 0x00, true)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, part) in self.raw_parts().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match part.into_part() {
                KeyPart::Bytes(b) => write!(f, "0x{}", hex(&b))?,
                KeyPart::Str(s) => write!(f, "{s:?}")?,
                KeyPart::Int(i) => write!(f, "{i}")?,
                KeyPart::Bool(b) => write!(f, "{b}")?,
            }
        }
        f.write_str(")")
    }
}

impl fmt::Debug for Key {
    /// `Key("users", 42)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key{self}")
    }
}

/// The encoded parts a versionstamped write appends to its prefix: `Int(version)`, `Int(n)`.
///
/// # Errors
/// `InvalidInput` for a version beyond `i64::MAX`.
pub fn versionstamp(version: Version, n: u32) -> Result<[u8; VERSIONSTAMP_LEN]> {
    let version = i64::try_from(version.0)
        .map_err(|_| Error::invalid(format!("version {version} is beyond a key's integer range")))?;
    let mut out = [0; VERSIONSTAMP_LEN];
    let (head, tail) = out.split_at_mut(INT_PART_LEN);
    head.copy_from_slice(&int_part(version));
    tail.copy_from_slice(&int_part(n.into()));
    Ok(out)
}

/// The bytes [`versionstamp`] appends: two `Int` parts.
pub const VERSIONSTAMP_LEN: usize = 2 * INT_PART_LEN;

const INT_PART_LEN: usize = 9;

/// The encoding of the key part `Int(i)` (for a dialect that makes a versionstamped key in SQL).
pub fn int_part(i: i64) -> [u8; INT_PART_LEN] {
    let mut out = [TAG_INT; INT_PART_LEN];
    for (byte, sorted) in out.iter_mut().skip(1).zip(((i as u64) ^ (1 << 63)).to_be_bytes()) {
        *byte = sorted;
    }
    out
}

fn encode_part(out: &mut Vec<u8>, part: &KeyPart) {
    match part {
        KeyPart::Bytes(b) => encode_escaped(out, TAG_BYTES, b),
        KeyPart::Str(s) => encode_escaped(out, TAG_STR, s.as_bytes()),
        KeyPart::Int(i) => out.extend_from_slice(&int_part(*i)),
        KeyPart::Bool(false) => out.push(TAG_FALSE),
        KeyPart::Bool(true) => out.push(TAG_TRUE),
    }
}

fn encode_escaped(out: &mut Vec<u8>, tag: u8, raw: &[u8]) {
    out.reserve(raw.len() + 2);
    out.push(tag);
    for run in raw.split_inclusive(|&b| b == 0) {
        out.extend_from_slice(run);
        if run.last() == Some(&0) {
            out.push(ESCAPE);
        }
    }
    out.push(0x00);
}

/// Checks that `bytes` is a well-formed version-1 encoding: one way to read it, to its end.
fn check(bytes: &[u8]) -> Result<()> {
    let corrupt = |why: &str| Error::Corrupt {
        message: format!("key bytes {}: {why}", hex(bytes)),
    };
    let Some((&format, mut rest)) = bytes.split_first() else {
        return Err(corrupt("empty"));
    };
    if format != KEY_FORMAT_V1 {
        return Err(corrupt(&format!("unknown key format {format:#04x}")));
    }
    while !rest.is_empty() {
        rest = split_part(rest).map_err(|why| corrupt(&why))?.1;
    }
    Ok(())
}

/// One part as it lies in an encoding; a run of bytes or text is still escaped.
enum RawPart<'a> {
    Bytes(&'a [u8]),
    Str(&'a [u8]),
    Int(i64),
    Bool(bool),
}

impl RawPart<'_> {
    fn into_part(self) -> KeyPart {
        match self {
            RawPart::Bytes(run) => KeyPart::Bytes(unescape(run)),
            // Checked UTF-8 when the key was made: lossless.
            RawPart::Str(run) => KeyPart::Str(String::from_utf8_lossy(&unescape(run)).into_owned()),
            RawPart::Int(i) => KeyPart::Int(i),
            RawPart::Bool(b) => KeyPart::Bool(b),
        }
    }
}

/// Splits the first part off `bytes` (which are past the format byte), or says why it cannot.
fn split_part(bytes: &[u8]) -> std::result::Result<(RawPart<'_>, &[u8]), String> {
    let Some((&tag, rest)) = bytes.split_first() else {
        return Err("no part".into());
    };
    Ok(match tag {
        TAG_BYTES | TAG_STR => {
            let end = run_end(rest).ok_or("unterminated")?;
            let (run, after) = rest.split_at(end);
            if tag == TAG_STR && !is_utf8(run) {
                return Err("invalid UTF-8".into());
            }
            let part = if tag == TAG_BYTES {
                RawPart::Bytes(run)
            } else {
                RawPart::Str(run)
            };
            (part, after.get(1..).unwrap_or_default())
        }
        TAG_INT => {
            let (head, after) = rest.split_first_chunk::<8>().ok_or("truncated integer")?;
            (RawPart::Int((u64::from_be_bytes(*head) ^ (1 << 63)) as i64), after)
        }
        TAG_FALSE => (RawPart::Bool(false), rest),
        TAG_TRUE => (RawPart::Bool(true), rest),
        other => return Err(format!("unknown part tag {other:#04x}")),
    })
}

/// Where the escaped run at the start of `bytes` ends: the index of its terminating `0x00`
/// (a `0x00` not followed by [`ESCAPE`]); `None` when there is none.
fn run_end(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let zero = from + bytes.get(from..)?.iter().position(|&b| b == 0)?;
        if bytes.get(zero + 1) != Some(&ESCAPE) {
            return Some(zero);
        }
        from = zero + 2;
    }
}

/// A run with each escaped `0x00 0xFF` turned back into `0x00`.
fn unescape(run: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(run.len());
    let mut escape_next = false;
    for &b in run {
        if !std::mem::take(&mut escape_next) {
            raw.push(b);
            escape_next = b == 0;
        }
    }
    raw
}

/// Whether the escaped run is UTF-8 once unescaped. Every `0x00` of a run is followed by its
/// escape, and a `0x00` is a character of its own, so each piece between them is checked alone.
fn is_utf8(run: &[u8]) -> bool {
    if run.is_ascii() {
        return true; // no 0xFF, so no escape either
    }
    run.split(|&b| b == 0).enumerate().all(|(i, piece)| {
        let piece = if i == 0 {
            piece
        } else {
            piece.get(1..).unwrap_or_default()
        };
        std::str::from_utf8(piece).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key;
    use proptest::prelude::*;

    fn part() -> impl Strategy<Value = KeyPart> {
        prop_oneof![
            proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFF), any::<u8>()], 0..6).prop_map(KeyPart::Bytes),
            "[\\x00a-c\\u{e9}\\u{10348}]{0,4}".prop_map(KeyPart::Str),
            prop_oneof![Just(i64::MIN), Just(-1i64), Just(0), Just(i64::MAX), any::<i64>()].prop_map(KeyPart::Int),
            any::<bool>().prop_map(KeyPart::Bool),
        ]
    }

    fn parts() -> impl Strategy<Value = Vec<KeyPart>> {
        proptest::collection::vec(part(), 0..5)
    }

    proptest! {
        #[test]
        fn roundtrips(parts in parts()) {
            let k = Key::from_parts(parts.clone());
            prop_assert_eq!(k.parts(), parts.clone());
            prop_assert_eq!(Key::decode(k.as_bytes())?, k.clone());
            let appended = parts.into_iter().fold(Key::default(), Key::with);
            prop_assert_eq!(appended, k);
        }

        #[test]
        fn memcmp_order_is_tuple_order(a in parts(), b in parts()) {
            prop_assert_eq!(Key::from_parts(a.clone()).cmp(&Key::from_parts(b.clone())), a.cmp(&b));
        }

        #[test]
        fn starts_with_and_prefix_range_are_tuple_prefixes(p in parts(), k in parts()) {
            let is_prefix = k.starts_with(&p);
            let (p, k) = (Key::from_parts(p), Key::from_parts(k));
            prop_assert_eq!(k.starts_with(&p), is_prefix);
            let (start, end) = p.prefix_range();
            let inside = start.as_slice() <= k.as_bytes() && k.as_bytes() < end.as_slice();
            prop_assert_eq!(inside, is_prefix && k != p);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(k) = Key::decode(&bytes) {
                prop_assert_eq!(k.as_bytes(), bytes.as_slice());
                // One encoding per key: its parts encode back to the same bytes.
                prop_assert_eq!(Key::from_parts(k.parts()), k.clone());
                let _ = k.to_string();
            }
        }
    }

    #[test]
    fn malformed_bytes_are_corrupt() {
        for bad in [
            &[][..],
            &[0x02],
            &[0x01, 0x09],
            &[0x01, 0x01, b'a'],
            &[0x01, 0x03, 0, 0, 0],
            &[0x01, 0x02, 0xC3, 0x28, 0x00],
            &[0x01, 0x02, b'a', 0xFF, b'b', 0x00],
            &[0x01, 0x02, 0xE2, 0x82, 0x00, 0xFF, 0xAC, 0x00],
            &[0x01, 0x01, b'a', 0x00, 0xFF],
        ] {
            assert!(matches!(Key::decode(bad), Err(Error::Corrupt { .. })), "{bad:?}");
        }
    }

    #[test]
    fn versionstamped_keys_end_in_two_ints() {
        let prefix = key!["feed", "a"];
        let key = Key::versionstamped(&prefix, Version(7), 2).unwrap();
        assert_eq!(key, key!["feed", "a", 7, 2]);
        assert_eq!(key.versionstamp(), Some((Version(7), 2)));
        assert_eq!(int_part(-1).as_slice(), &key![-1].as_bytes()[1..]);
        assert!(Key::versionstamped(&prefix, Version(7), 3).unwrap() > key);
        assert!(Key::versionstamped(&prefix, Version(8), 0).unwrap() > key);
        assert!(Key::versionstamped(&prefix, Version::PENDING, 0).is_err());
        for no_stamp in [key!["a"], key!["a", 0, 1], key!["a", 1, -1], key!["a", "b", 1]] {
            assert_eq!(no_stamp.versionstamp(), None, "{no_stamp}");
        }
    }

    #[test]
    fn documented_examples() {
        assert_eq!(key!["a", 1].encode(), [1, 2, b'a', 0, 3, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(key![&[0u8][..], true].encode(), [1, 1, 0, 0xFF, 0, 5]);
        assert_eq!(key!["users", 42, false].to_string(), "(\"users\", 42, false)");
        assert_eq!(format!("{:?}", key!["a", &[0u8, 0xFF][..]]), "Key(\"a\", 0x00ff)");
        assert!(!key![&[b'a', 0][..]].starts_with(&key![&b"a"[..]]));
        assert!(Key::default().is_empty() && !key![1].is_empty());
    }
}
