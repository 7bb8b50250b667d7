//! Keys of a table that namespaces share, as the redb and PostgreSQL adapters store them:
//! `namespace ++ 0x00 ++ encoded key`.
//!
//! A namespace name never holds `0x00` (see [`enginedb::port::validate_namespace`]), so each
//! namespace is one contiguous span of the table, ordered by encoded key, and namespaces whose
//! names extend one another (`alpha`, `alpha_b`) stay apart. One byte string per key lets the
//! store compare keys with one `memcmp`.

use enginedb::ByteRange;
use enginedb::{Error, Result};

/// Ends the namespace part of a table key.
const SEPARATOR: u8 = 0x00;

/// Writes the table key of `encoded` in `namespace` into `out` (cleared first).
pub fn table_key_into(namespace: &str, encoded: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(namespace.as_bytes());
    out.push(SEPARATOR);
    out.extend_from_slice(encoded);
}

/// The table key of `encoded` in `namespace`.
pub fn table_key(namespace: &str, encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(namespace.len() + 1 + encoded.len());
    table_key_into(namespace, encoded, &mut out);
    out
}

/// A span `[start, end)` of table keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpan {
    /// First table key included.
    pub start: Vec<u8>,
    /// First table key excluded.
    pub end: Vec<u8>,
}

/// The table keys bounding `range` in `namespace`. An unbounded end is the end of the
/// namespace: every table key of `namespace` lies before `namespace ++ 0x01`, and no other
/// namespace's key lies between the two.
pub fn table_span(namespace: &str, range: &ByteRange) -> TableSpan {
    let end = match &range.end {
        Some(end) => table_key(namespace, end),
        None => {
            let mut end = Vec::with_capacity(namespace.len() + 1);
            end.extend_from_slice(namespace.as_bytes());
            end.push(SEPARATOR + 1);
            end
        }
    };
    TableSpan {
        start: table_key(namespace, &range.start),
        end,
    }
}

/// The encoded key inside `stored`, a table key of `namespace`.
///
/// # Errors
/// `Corrupt` when `stored` is not a key of `namespace`.
pub fn encoded_key<'a>(namespace: &str, stored: &'a [u8]) -> Result<&'a [u8]> {
    stored
        .strip_prefix(namespace.as_bytes())
        .and_then(|rest| rest.strip_prefix(&[SEPARATOR]))
        .ok_or_else(|| Error::Corrupt {
            message: format!("a stored key lies outside namespace {namespace:?}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use enginedb::ErrorKind;

    #[test]
    fn namespaces_stay_apart_and_foreign_keys_are_corrupt() {
        let key = table_key("alpha", &[1, 7]);
        assert_eq!(key, b"alpha\x00\x01\x07");
        assert_eq!(encoded_key("alpha", &key).unwrap(), &[1, 7]);
        // `alpha_b`'s keys sort after all of `alpha`'s, and never strip to one of them.
        let longer = table_key("alpha_b", &[1, 7]);
        assert!(longer > table_key("alpha", &[0xff; 8]));
        assert_eq!(encoded_key("alpha", &longer).unwrap_err().kind(), ErrorKind::Corrupt);
        assert_eq!(encoded_key("", b"k").unwrap_err().kind(), ErrorKind::Corrupt);
        let span = table_span("", &ByteRange::new(vec![1], vec![2]));
        assert_eq!((span.start, span.end), (vec![0, 1], vec![0, 2]));
    }

    #[test]
    fn an_unbounded_span_ends_with_its_namespace() {
        let whole = table_span("alpha", &ByteRange::WHOLE);
        assert_eq!(
            (whole.start.as_slice(), whole.end.as_slice()),
            (&b"alpha\x00"[..], &b"alpha\x01"[..])
        );
        let inside = |key: &[u8]| {
            let key = table_key("alpha", key);
            whole.start <= key && key < whole.end
        };
        assert!(inside(&[]) && inside(&[0]) && inside(&[0xff; 9]));
        for other in [table_key("alpha_b", &[]), table_key("alph", &[0xff]), b"alpha".to_vec()] {
            assert!(!(whole.start <= other && other < whole.end), "{other:?}");
        }
    }
}
