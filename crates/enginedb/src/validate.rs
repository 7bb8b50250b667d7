//! Validation of everything that reaches an adapter: keys, units, namespaces. The core runs it
//! once, before anything is read or written, so adapters never validate (DESIGN §5).

use crate::codec::VERSIONSTAMP_LEN;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::{
    MAX_GET_MANY, MAX_KEY_BYTES, MAX_NAMESPACE_CHARS, MAX_OPS_PER_UNIT, MAX_UNIT_BYTES, MAX_VALUE_BYTES,
};
use crate::model::{Selector, Write};
use crate::value::Value;

fn exceeded(what: &'static str, limit: usize, actual: usize) -> Error {
    Error::LimitExceeded {
        what,
        limit: limit as u64,
        actual: actual as u64,
        nothing_written: false,
    }
}

/// Checks a key that is read: at most [`MAX_KEY_BYTES`] encoded, not empty.
///
/// # Errors
/// `InvalidInput` for the empty key, `LimitExceeded` for a long one.
pub(crate) fn validate_key(key: &Key) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("the empty key cannot be stored or read"));
    }
    let len = key.encoded_len();
    if len > MAX_KEY_BYTES {
        return Err(exceeded("encoded key bytes", MAX_KEY_BYTES, len));
    }
    Ok(())
}

/// Checks the keys of a `get_many`.
///
/// # Errors
/// As [`validate_key`], and `LimitExceeded` for more than [`MAX_GET_MANY`] keys.
pub(crate) fn validate_keys(keys: &[Key]) -> Result<()> {
    if keys.len() > MAX_GET_MANY {
        return Err(exceeded("keys per get_many", MAX_GET_MANY, keys.len()));
    }
    keys.iter().try_for_each(validate_key)
}

fn validate_value(value: &Value) -> Result<()> {
    match value {
        Value::Bytes(b) if b.len() > MAX_VALUE_BYTES => Err(exceeded("value bytes", MAX_VALUE_BYTES, b.len())),
        _ => Ok(()),
    }
}

fn selector_size(selector: &Selector) -> usize {
    match selector {
        Selector::Prefix { prefix, start, end } => {
            prefix.encoded_len() + start.as_ref().map_or(0, Key::encoded_len) + end.as_ref().map_or(0, Key::encoded_len)
        }
        Selector::Range { start, end } => start.encoded_len() + end.encoded_len(),
    }
}

/// The bytes an op counts against [`MAX_UNIT_BYTES`]: its encoded key(s) plus its value
/// (8 for a counter or an operand). A `DeleteRange` or `CheckRange` counts its bounds.
pub fn op_size(op: &Write) -> usize {
    match op {
        Write::Check { key, .. } | Write::Delete { key } => key.encoded_len(),
        Write::Set { key, value } | Write::Insert { key, value } => key.encoded_len() + value.size(),
        Write::SetVersionstamped { prefix, value } => prefix.encoded_len() + VERSIONSTAMP_LEN + value.size(),
        Write::Sum { key, .. } | Write::Min { key, .. } | Write::Max { key, .. } => key.encoded_len() + 8,
        Write::DeleteRange { range } => selector_size(range),
        Write::CheckRange { range, .. } => range.start.len() + range.end.as_ref().map_or(0, Vec::len),
    }
}

/// The bytes a whole unit counts against [`MAX_UNIT_BYTES`].
pub fn unit_size(ops: &[Write]) -> usize {
    ops.iter().map(op_size).sum()
}

/// Checks a whole unit before anything of it is written: op count, every key and value, every
/// selector, the total size.
///
/// # Errors
/// `LimitExceeded` or `InvalidInput` naming the offending op, saying nothing was written.
pub(crate) fn validate_unit(ops: &[Write]) -> Result<()> {
    check_unit(ops).map_err(Error::on_write)
}

/// Checks op number `index` of a unit or transaction by itself.
///
/// # Errors
/// As [`validate_unit`], naming `index`.
pub(crate) fn validate_op_at(op: &Write, index: usize) -> Result<()> {
    check_op_at(op, index).map_err(Error::on_write)
}

fn check_op_at(op: &Write, index: usize) -> Result<()> {
    validate_op(op).map_err(|e| match e {
        Error::InvalidInput { message, .. } => Error::invalid(format!("op {index}: {message}")),
        other => other,
    })
}

impl Write {
    /// Checks this op against the limits and rules a unit is held to (a non-empty key of at
    /// most [`MAX_KEY_BYTES`] encoded, a value of at most [`MAX_VALUE_BYTES`], a well-formed
    /// selector), as a unit does before writing anything. It writes nothing itself.
    ///
    /// # Errors
    /// `InvalidInput` or `LimitExceeded`.
    pub fn validate(&self) -> Result<()> {
        validate_op(self)
    }
}

fn check_unit(ops: &[Write]) -> Result<()> {
    if ops.len() > MAX_OPS_PER_UNIT {
        return Err(exceeded("ops per unit", MAX_OPS_PER_UNIT, ops.len()));
    }
    for (index, op) in ops.iter().enumerate() {
        check_op_at(op, index)?;
    }
    let size = unit_size(ops);
    if size > MAX_UNIT_BYTES {
        return Err(exceeded("unit bytes", MAX_UNIT_BYTES, size));
    }
    Ok(())
}

fn validate_op(op: &Write) -> Result<()> {
    if let Some(key) = op.key() {
        validate_key(key)?;
    }
    match op {
        Write::Set { value, .. } | Write::Insert { value, .. } => validate_value(value),
        Write::SetVersionstamped { prefix, value } => {
            let len = prefix.encoded_len() + VERSIONSTAMP_LEN;
            if len > MAX_KEY_BYTES {
                return Err(exceeded(
                    "encoded key bytes (prefix and versionstamp)",
                    MAX_KEY_BYTES,
                    len,
                ));
            }
            validate_value(value)
        }
        Write::DeleteRange { range } => range.byte_range().map(drop),
        Write::CheckRange { range, .. } => {
            let longest = range.start.len().max(range.end.as_ref().map_or(0, Vec::len));
            if longest > MAX_KEY_BYTES + 1 {
                return Err(exceeded("range bound bytes", MAX_KEY_BYTES + 1, longest));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Checks a namespace name: 1 to [`MAX_NAMESPACE_CHARS`] characters, ASCII lower-case letters,
/// digits and `_`, starting with a letter. Adapters may therefore use it as (part of) an SQL
/// identifier; it is still never the only safeguard.
///
/// # Errors
/// `InvalidInput` naming the rule broken.
pub fn validate_namespace(name: &str) -> Result<()> {
    let starts_with_letter = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    let allowed = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !starts_with_letter || !allowed || name.len() > MAX_NAMESPACE_CHARS {
        return Err(Error::invalid(format!(
            "namespace {name:?} must be 1 to {MAX_NAMESPACE_CHARS} of [a-z0-9_], starting with a letter"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::{ErrorKind, KeyPart, key};

    fn key_of_len(len: usize) -> Key {
        key!["k"].with(KeyPart::Bytes(vec![b'x'; len - key!["k"].encoded_len() - 2]))
    }

    #[rstest]
    #[case::key_at_limit(vec![Write::set(key_of_len(MAX_KEY_BYTES), 1)], None)]
    #[case::key_over_limit(vec![Write::set(key_of_len(MAX_KEY_BYTES + 1), 1)], Some(ErrorKind::LimitExceeded))]
    #[case::empty_key(vec![Write::delete(Key::default())], Some(ErrorKind::InvalidInput))]
    #[case::stamped_key_at_limit(
        vec![Write::set_versionstamped(key_of_len(MAX_KEY_BYTES - VERSIONSTAMP_LEN), 1)],
        None
    )]
    #[case::stamped_key_over_limit(
        vec![Write::set_versionstamped(key_of_len(MAX_KEY_BYTES - VERSIONSTAMP_LEN + 1), 1)],
        Some(ErrorKind::LimitExceeded)
    )]
    #[case::stamped_value_over_limit(
        vec![Write::set_versionstamped(Key::default(), vec![0; MAX_VALUE_BYTES + 1])],
        Some(ErrorKind::LimitExceeded)
    )]
    #[case::value_at_limit(vec![Write::set(key!["v"], vec![0; MAX_VALUE_BYTES])], None)]
    #[case::value_over_limit(vec![Write::insert(key!["v"], vec![0; MAX_VALUE_BYTES + 1])], Some(ErrorKind::LimitExceeded))]
    #[case::ops_at_limit(vec![Write::delete(key!["d"]); MAX_OPS_PER_UNIT], None)]
    #[case::ops_over_limit(vec![Write::delete(key!["d"]); MAX_OPS_PER_UNIT + 1], Some(ErrorKind::LimitExceeded))]
    #[case::inverted_range(
        vec![Write::delete_range(Selector::range(key![2], key![1]))],
        Some(ErrorKind::InvalidInput)
    )]
    #[case::bad_prefix_from(
        vec![Write::delete_range(Selector::prefix(key!["a"]).start(key!["b"]))],
        Some(ErrorKind::InvalidInput)
    )]
    #[case::empty_unit(vec![], None)]
    fn validates_units(#[case] unit: Vec<Write>, #[case] expected: Option<ErrorKind>) {
        assert_eq!(validate_unit(&unit).err().map(|e| e.kind()), expected);
    }

    #[test]
    fn unit_bytes_limit_is_exact() {
        let value = |n: usize| Write::set(key!["v"], vec![0; n]);
        let each = key!["v"].encoded_len() + MAX_VALUE_BYTES;
        let mut unit = vec![value(MAX_VALUE_BYTES); MAX_UNIT_BYTES / each];
        let rest = MAX_UNIT_BYTES - unit_size(&unit) - key!["v"].encoded_len();
        unit.push(value(rest));
        assert_eq!(unit_size(&unit), MAX_UNIT_BYTES);
        assert!(validate_unit(&unit).is_ok());
        unit.push(Write::delete(key!["x"]));
        assert_eq!(validate_unit(&unit).unwrap_err().kind(), ErrorKind::LimitExceeded);
    }

    #[rstest]
    #[case("a", true)]
    #[case("tenant_42", true)]
    #[case("", false)]
    #[case("9lives", false)]
    #[case("Upper", false)]
    #[case("semi;colon", false)]
    #[case("quote\"", false)]
    #[case(&"x".repeat(MAX_NAMESPACE_CHARS), true)]
    #[case(&"x".repeat(MAX_NAMESPACE_CHARS + 1), false)]
    fn namespaces_are_strict_identifiers(#[case] name: &str, #[case] valid: bool) {
        assert_eq!(validate_namespace(name).is_ok(), valid, "{name:?}");
    }
}
