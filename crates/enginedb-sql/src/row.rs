//! Decoding stored rows. A row is `(v, n, ver)`: bytes in `v` or a counter in `n` (as decimal
//! text), never both, and its version (as decimal text).

use enginedb::{Error, Result, Value, Version};

/// The value and version of a stored row.
///
/// # Errors
/// `Corrupt` when both or neither of `v` and `n` are set, or a number does not parse.
pub fn decode(v: Option<Vec<u8>>, n: Option<String>, ver: &str) -> Result<(Value, Version)> {
    let value = match (v, n) {
        (Some(bytes), None) => Value::Bytes(bytes),
        (None, Some(text)) => Value::I64(text.parse().map_err(|_| corrupt(&format!("counter {text:?}")))?),
        (Some(_), Some(_)) => return Err(corrupt("both bytes and a counter")),
        (None, None) => return Err(corrupt("neither bytes nor a counter")),
    };
    let version = ver
        .parse()
        .map(Version)
        .map_err(|_| corrupt(&format!("version {ver:?}")))?;
    Ok((value, version))
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
            decode(None, Some(i64::MIN.to_string()), "1").unwrap().0,
            Value::I64(i64::MIN)
        );
        for (v, n, ver) in [
            (Some(vec![]), Some("1".to_owned()), "1"),
            (None, None, "1"),
            (None, Some("1.5".to_owned()), "1"),
            (Some(vec![]), None, "-1"),
        ] {
            assert_eq!(decode(v, n, ver).unwrap_err().kind(), ErrorKind::Corrupt);
        }
    }
}
