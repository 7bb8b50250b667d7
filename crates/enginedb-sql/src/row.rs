//! Decoding stored rows. A row is `(v, n, ver)`: bytes in `v` or a counter in `n`, never both,
//! and its version. The SQLite dialect reads numbers as decimal text (exact on D1 too).

use enginedb::{Error, Result, Value, Version};

/// The value and version of a stored row.
///
/// # Errors
/// `Corrupt` when both or neither of `v` and `n` are set, or a number does not parse.
pub fn decode(v: Option<Vec<u8>>, n: Option<&str>, ver: &str) -> Result<(Value, Version)> {
    let n = n
        .map(|text| text.parse().map_err(|_| corrupt(&format!("counter {text:?}"))))
        .transpose()?;
    let version = ver
        .parse()
        .map(Version)
        .map_err(|_| corrupt(&format!("version {ver:?}")))?;
    Ok((value(v, n)?, version))
}

/// The value of a row whose counter arrives as an integer.
///
/// # Errors
/// `Corrupt` when both or neither of `v` and `n` are set.
pub fn value(v: Option<Vec<u8>>, n: Option<i64>) -> Result<Value> {
    match (v, n) {
        (Some(bytes), None) => Ok(Value::Bytes(bytes)),
        (None, Some(n)) => Ok(Value::I64(n)),
        (Some(_), Some(_)) => Err(corrupt("both bytes and a counter")),
        (None, None) => Err(corrupt("neither bytes nor a counter")),
    }
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
            assert_eq!(decode(v, n, ver).unwrap_err().kind(), ErrorKind::Corrupt);
        }
    }
}
