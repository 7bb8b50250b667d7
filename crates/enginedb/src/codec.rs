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

use crate::error::{Error, Result};
use crate::key::{Key, KeyPart, hex};

/// The leading byte of every key encoded with format version 1.
pub const KEY_FORMAT_V1: u8 = 0x01;

const TAG_BYTES: u8 = 0x01;
const TAG_STR: u8 = 0x02;
const TAG_INT: u8 = 0x03;
const TAG_FALSE: u8 = 0x04;
const TAG_TRUE: u8 = 0x05;
const ESCAPE: u8 = 0xFF;

impl Key {
    /// The encoded form (format version 1).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.0.len() * 9);
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoded form to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(KEY_FORMAT_V1);
        for part in &self.0 {
            match part {
                KeyPart::Bytes(b) => encode_escaped(out, TAG_BYTES, b),
                KeyPart::Str(s) => encode_escaped(out, TAG_STR, s.as_bytes()),
                KeyPart::Int(i) => {
                    out.push(TAG_INT);
                    out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes());
                }
                KeyPart::Bool(false) => out.push(TAG_FALSE),
                KeyPart::Bool(true) => out.push(TAG_TRUE),
            }
        }
    }

    /// The length of [`Key::encode`]'s output, without allocating it.
    pub fn encoded_len(&self) -> usize {
        1 + self
            .0
            .iter()
            .map(|part| match part {
                KeyPart::Bytes(b) => escaped_len(b),
                KeyPart::Str(s) => escaped_len(s.as_bytes()),
                KeyPart::Int(_) => 9,
                KeyPart::Bool(_) => 1,
            })
            .sum::<usize>()
    }

    /// Decodes bytes produced by [`Key::encode`].
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the bytes are not a well-formed version-1 encoding.
    pub fn decode(bytes: &[u8]) -> Result<Key> {
        let corrupt = |why: &str| Error::Corrupt {
            message: format!("key bytes {}: {why}", hex(bytes)),
        };
        let Some((&format, mut rest)) = bytes.split_first() else {
            return Err(corrupt("empty"));
        };
        if format != KEY_FORMAT_V1 {
            return Err(corrupt(&format!("unknown key format {format:#04x}")));
        }
        let mut parts = Vec::new();
        while let Some((&tag, after)) = rest.split_first() {
            rest = after;
            let part = match tag {
                TAG_BYTES | TAG_STR => {
                    let (raw, after) = decode_escaped(rest).ok_or_else(|| corrupt("unterminated"))?;
                    rest = after;
                    if tag == TAG_BYTES {
                        KeyPart::Bytes(raw)
                    } else {
                        KeyPart::Str(String::from_utf8(raw).map_err(|_| corrupt("invalid UTF-8"))?)
                    }
                }
                TAG_INT => {
                    let (head, after) = rest
                        .split_first_chunk::<8>()
                        .ok_or_else(|| corrupt("truncated integer"))?;
                    rest = after;
                    KeyPart::Int((u64::from_be_bytes(*head) ^ (1 << 63)) as i64)
                }
                TAG_FALSE => KeyPart::Bool(false),
                TAG_TRUE => KeyPart::Bool(true),
                other => return Err(corrupt(&format!("unknown part tag {other:#04x}"))),
            };
            parts.push(part);
        }
        Ok(Key(parts))
    }

    /// The byte range `[start, end)` holding exactly the encodings of this key's strict
    /// extensions (the key itself excluded).
    pub fn prefix_range(&self) -> (Vec<u8>, Vec<u8>) {
        let encoded = self.encode();
        let mut start = encoded.clone();
        start.push(0x00);
        let mut end = encoded;
        end.push(0xFF);
        (start, end)
    }
}

fn escaped_len(raw: &[u8]) -> usize {
    2 + raw.len() + raw.iter().filter(|&&b| b == 0).count()
}

fn encode_escaped(out: &mut Vec<u8>, tag: u8, raw: &[u8]) {
    out.push(tag);
    for &b in raw {
        out.push(b);
        if b == 0 {
            out.push(ESCAPE);
        }
    }
    out.push(0x00);
}

/// Splits an escaped, `0x00`-terminated run off `bytes`; `None` when the terminator is missing.
fn decode_escaped(mut bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut raw = Vec::new();
    loop {
        // Copy up to the next 0x00: an escaped 0x00 goes on, any other ends the run.
        let zero = bytes.iter().position(|&b| b == 0)?;
        let (run, rest) = bytes.split_at(zero);
        raw.extend_from_slice(run);
        match rest.get(1) {
            Some(&ESCAPE) => {
                raw.push(0);
                bytes = rest.get(2..)?;
            }
            _ => return Some((raw, rest.get(1..)?)),
        }
    }
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

    fn key() -> impl Strategy<Value = Key> {
        proptest::collection::vec(part(), 0..5).prop_map(Key)
    }

    proptest! {
        #[test]
        fn roundtrips(k in key()) {
            let bytes = k.encode();
            prop_assert_eq!(bytes.len(), k.encoded_len());
            prop_assert_eq!(Key::decode(&bytes)?, k);
        }

        #[test]
        fn memcmp_order_is_tuple_order(a in key(), b in key()) {
            prop_assert_eq!(a.encode().cmp(&b.encode()), a.cmp(&b));
        }

        #[test]
        fn prefix_range_holds_exactly_the_extensions(p in key(), k in key()) {
            let (start, end) = p.prefix_range();
            let e = k.encode();
            let inside = start <= e && e < end;
            prop_assert_eq!(inside, k.starts_with(&p) && k != p);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(k) = Key::decode(&bytes) {
                prop_assert_eq!(k.encode(), bytes);
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
        ] {
            assert!(matches!(Key::decode(bad), Err(Error::Corrupt { .. })), "{bad:?}");
        }
    }

    #[test]
    fn documented_examples() {
        assert_eq!(key!["a", 1].encode(), [1, 2, b'a', 0, 3, 0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(key![&[0u8][..], true].encode(), [1, 1, 0, 0xFF, 0, 5]);
        assert_eq!(key!["users", 42, false].to_string(), "(\"users\", 42, false)");
    }
}
