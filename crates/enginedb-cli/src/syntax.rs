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
            (None, Some(Json::String(n))) => n
                .parse()
                .map(Value::I64)
                .map_err(|_| Error::invalid(format!("{n:?} is not an i64"))),
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return Err(Error::invalid(format!("{text:?} is not hex (odd length)")));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| Error::invalid(format!("{text:?} is not hex")))
        })
        .collect()
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
        ] {
            assert!(key(bad).is_err(), "{bad}");
        }
    }
}
