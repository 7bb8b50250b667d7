//! Stored values: bytes or `i64` counters, and how applications read them (DESIGN §3).

use std::fmt;

#[cfg(feature = "serde")]
use crate::error::{Error, Result};
use crate::key::hex;

/// A stored value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// Opaque bytes, at most [`crate::limits::MAX_VALUE_BYTES`].
    Bytes(Vec<u8>),
    /// A counter, exact over the full i64 range on every adapter; see [`crate::Write::Sum`].
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

    /// The counter, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::I64(n) => Some(*n),
            Value::Bytes(_) => None,
        }
    }

    /// The bytes, if this is a `Bytes` value.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            Value::I64(_) => None,
        }
    }

    /// The bytes as text, if this is a `Bytes` value holding UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// `value` serialized as JSON bytes.
    ///
    /// # Errors
    /// `InvalidInput` when `value` cannot be serialized (say, a map with non-string keys).
    #[cfg(feature = "serde")]
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Value> {
        serde_json::to_vec(value)
            .map(Value::Bytes)
            .map_err(|e| Error::invalid(format!("the value does not serialize as JSON: {e}")))
    }

    /// This value deserialized from JSON: a `Bytes` value as JSON text, a counter as a number.
    /// (Plain text stored with `set(key, "text")` is not JSON: read it with [`Value::as_str`].)
    ///
    /// # Errors
    /// `Decode` when it is not a `T`.
    #[cfg(feature = "serde")]
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let decoded = match self {
            Value::Bytes(b) => serde_json::from_slice(b),
            Value::I64(n) => serde_json::from_value(serde_json::Value::from(*n)),
        };
        decoded.map_err(|e| Error::Decode {
            expected: std::any::type_name::<T>(),
            message: e.to_string(),
        })
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
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Bytes(s.into_bytes())
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Bytes(s.as_bytes().to_vec())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::I64(i)
    }
}
