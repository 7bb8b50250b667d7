//! Decoding stored rows. A row is `(v, n, ver)`: bytes in `v` or a counter in `n`, never both,
//! and its version. The SQLite dialect reads numbers as decimal text (exact on D1 too).

use enginedb::{Error, Result, Value, Version};
use enginedb_kit::packed::ValueRef;

/// The value and version of a stored row.
///
/// # Errors
/// `Corrupt` when both or neither of `v` and `n` are set, a number does not parse, or the
/// version is not positive.
pub fn decode(v: Option<Vec<u8>>, n: Option<&str>, ver: &str) -> Result<(Value, Version)> {
    let (n, version) = numbers(n, ver)?;
    Ok((value(v, n)?, version))
}

/// [`decode`], borrowing the bytes from the row.
///
/// # Errors
/// As [`decode`].
pub fn decode_ref<'a>(v: Option<&'a [u8]>, n: Option<&str>, ver: &str) -> Result<(ValueRef<'a>, Version)> {
    let (n, version) = numbers(n, ver)?;
    let value = match held(v, n)? {
        Held::Bytes(bytes) => ValueRef::Bytes(bytes),
        Held::Counter(n) => ValueRef::I64(n),
    };
    Ok((value, version))
}

/// The value of a row whose counter arrives as an integer.
///
/// # Errors
/// `Corrupt` when both or neither of `v` and `n` are set.
pub fn value(v: Option<Vec<u8>>, n: Option<i64>) -> Result<Value> {
    Ok(match held(v, n)? {
        Held::Bytes(bytes) => Value::Bytes(bytes),
        Held::Counter(n) => Value::I64(n),
    })
}

/// What a row holds: bytes or a counter.
enum Held<B> {
    Bytes(B),
    Counter(i64),
}

fn held<B>(v: Option<B>, n: Option<i64>) -> Result<Held<B>> {
    match (v, n) {
        (Some(bytes), None) => Ok(Held::Bytes(bytes)),
        (None, Some(n)) => Ok(Held::Counter(n)),
        (Some(_), Some(_)) => Err(corrupt("both bytes and a counter")),
        (None, None) => Err(corrupt("neither bytes nor a counter")),
    }
}

/// The counter and version of a row, parsed from text.
fn numbers(n: Option<&str>, ver: &str) -> Result<(Option<i64>, Version)> {
    let n = n
        .map(|text| text.parse().map_err(|_| corrupt(&format!("counter {text:?}"))))
        .transpose()?;
    // Every commit's version is at least 1.
    let version = ver
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .map(Version)
        .ok_or_else(|| corrupt(&format!("version {ver:?}")))?;
    Ok((n, version))
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt {
        message: format!("stored row holds {what}"),
    }
}

#[cfg(test)]
mod tests {
    use enginedb::ErrorKind;

    use super::*;

    #[test]
    fn decodes_or_reports_corruption() {
        assert_eq!(
            decode(Some(vec![1]), None, "7").unwrap(),
            (Value::Bytes(vec![1]), Version(7))
        );
        assert_eq!(
            decode(None, Some(&i64::MIN.to_string()), "1").unwrap().0,
            Value::I64(i64::MIN)
        );
        for (v, n, ver) in [
            (Some(vec![]), Some("1"), "1"),
            (None, None, "1"),
            (None, Some("1.5"), "1"),
            (Some(vec![]), None, "-1"),
        ] {
            assert_eq!(decode_ref(v.as_deref(), n, ver).unwrap_err().kind(), ErrorKind::Corrupt);
            assert_eq!(decode(v, n, ver).unwrap_err().kind(), ErrorKind::Corrupt);
        }
        assert_eq!(
            decode_ref(Some(&[1][..]), None, "7").unwrap(),
            (ValueRef::Bytes(&[1]), Version(7))
        );
        assert_eq!(decode_ref(None, Some("-3"), "7").unwrap().0, ValueRef::I64(-3));
    }
}
