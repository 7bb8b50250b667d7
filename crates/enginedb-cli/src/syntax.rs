//! The readable forms of keys and values on the command line and in dumps.
//!
//! A key is a JSON array of parts: a string is `Str`, an integer `Int`, `true`/`false` `Bool`,
//! and `{"bytes": "00ff"}` `Bytes` (hex): `'["users", 42]'`. A value is
//! `{"bytes": "hex"}` or `{"i64": "123"}` (the counter as a string, exact in any JSON reader).

use enginedb::{Error, Key, KeyPart, Result, Value};
use serde_json::{Value as Json, json};

/// Parses a key from its JSON form.
pub(crate) fn key(text: &str) -> Result<Key> {
    let json: Json =
        serde_json::from_str(text).map_err(|e| Error::invalid(format!("key {text:?} is not JSON: {e}")))?;
    key_from_json(&json)
}

pub(crate) fn key_from_json(json: &Json) -> Result<Key> {
    let Json::Array(parts) = json else {
        return Err(Error::invalid(format!("a key is a JSON array of parts, not {json}")));
    };
    parts.iter().map(part).collect()
}

fn part(json: &Json) -> Result<KeyPart> {
    match json {
        Json::String(s) => Ok(KeyPart::Str(s.clone())),
        Json::Bool(b) => Ok(KeyPart::Bool(*b)),
        Json::Number(n) => n
            .as_i64()
            .map(KeyPart::Int)
            .ok_or_else(|| Error::invalid(format!("key part {n} is not an i64"))),
        Json::Object(o) => match (o.len(), o.get("bytes")) {
            (1, Some(Json::String(hex))) => Ok(KeyPart::Bytes(unhex(hex)?)),
            _ => Err(Error::invalid(format!("key part {json} is not {{\"bytes\": \"hex\"}}"))),
        },
        _ => Err(Error::invalid(format!(
            "key part {json} is not a string, integer, boolean or bytes"
        ))),
    }
}

/// The JSON form of a key.
pub(crate) fn key_json(key: &Key) -> Json {
    Json::Array(
        key.parts()
            .iter()
            .map(|p| match p {
                KeyPart::Bytes(b) => json!({ "bytes": hex(b) }),
                KeyPart::Str(s) => json!(s),
                KeyPart::Int(i) => json!(i),
                KeyPart::Bool(b) => json!(b),
            })
            .collect(),
    )
}

/// The JSON form of a value.
pub(crate) fn value_json(value: &Value) -> Json {
    match value {
        Value::Bytes(b) => json!({ "bytes": hex(b) }),
        Value::I64(n) => json!({ "i64": n.to_string() }),
    }
}

/// Parses a value from its JSON form.
pub(crate) fn value_from_json(json: &Json) -> Result<Value> {
    match json {
        Json::Object(o) if o.len() == 1 => match (o.get("bytes"), o.get("i64")) {
            (Some(Json::String(hex)), None) => Ok(Value::Bytes(unhex(hex)?)),
            (None, Some(Json::String(n))) => strict_i64(n).map(Value::I64),
            _ => Err(Error::invalid(format!(
                "value {json} is not {{\"bytes\": hex}} or {{\"i64\": \"n\"}}"
            ))),
        },
        _ => Err(Error::invalid(format!(
            "value {json} is not {{\"bytes\": hex}} or {{\"i64\": \"n\"}}"
        ))),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Strict hex: digits only, two per byte.
pub(crate) fn unhex(text: &str) -> Result<Vec<u8>> {
    hex::decode(text).map_err(|e| Error::invalid(format!("{text:?} is not hex: {e}")))
}

/// An i64 in decimal, strictly: an optional `-`, then digits (no `+`, no spaces).
pub(crate) fn strict_i64(text: &str) -> Result<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(format!("{text:?} is not an i64")));
    }
    text.parse()
        .map_err(|_| Error::invalid(format!("{text:?} is not an i64")))
}

#[cfg(test)]
mod tests {
    use enginedb::key as k;

    use super::*;

    #[test]
    fn keys_and_values_roundtrip_through_json() {
        let parsed = key(r#"["users", 42, true, {"bytes": "00ff"}, -9223372036854775808]"#).unwrap();
        assert_eq!(parsed, k!["users", 42, true, &[0u8, 255][..], i64::MIN]);
        assert_eq!(key_from_json(&key_json(&parsed)).unwrap(), parsed);
        for value in [Value::I64(i64::MAX), Value::Bytes(vec![]), Value::Bytes(vec![1, 2])] {
            assert_eq!(value_from_json(&value_json(&value)).unwrap(), value);
        }
        for bad in [
            "users",
            "[1.5]",
            "[null]",
            r#"[{"bytes": "0"}]"#,
            "[9223372036854775808]",
            r#"[{"bytes": "+f+f"}]"#,
        ] {
            assert!(key(bad).is_err(), "{bad}");
        }
        for bad in [
            r#"{"i64": "+5"}"#,
            r#"{"i64": " 5"}"#,
            r#"{"i64": "-"}"#,
            r#"{"bytes": "+f"}"#,
        ] {
            let json: Json = serde_json::from_str(bad).unwrap();
            assert!(value_from_json(&json).is_err(), "{bad}");
        }
        assert_eq!(strict_i64("-9223372036854775808").unwrap(), i64::MIN);
    }
}
