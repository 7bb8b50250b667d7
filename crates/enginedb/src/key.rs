//! Tuple keys: the parts they are made of, and how they read. Their byte encoding is in
//! `codec`.

use std::fmt;

/// One element of a tuple key.
///
/// The derived order is the tuple order of DESIGN §3: variants compare in declaration order,
/// then by value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyPart {
    /// Raw bytes, ordered bytewise.
    Bytes(Vec<u8>),
    /// Text, ordered by its UTF-8 bytes.
    Str(String),
    /// A signed integer, ordered numerically.
    Int(i64),
    /// A boolean, `false < true`.
    Bool(bool),
}

/// A tuple key: a sequence of [`KeyPart`]s. `Key::default()` is the empty tuple.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub(crate) Vec<KeyPart>);

/// Builds a [`Key`] from values convertible into [`KeyPart`]: `key!["users", 42]`.
#[macro_export]
macro_rules! key {
    ($($part:expr),* $(,)?) => {
        $crate::Key::from_parts(vec![$($crate::KeyPart::from($part)),*])
    };
}

impl Key {
    /// A key made of `parts`.
    pub fn from_parts(parts: Vec<KeyPart>) -> Self {
        Key(parts)
    }

    /// The parts of this key.
    pub fn parts(&self) -> &[KeyPart] {
        &self.0
    }

    /// Whether this is the empty tuple (valid in selectors, invalid for writes).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This key with `part` appended.
    #[must_use]
    pub fn with(mut self, part: impl Into<KeyPart>) -> Self {
        self.0.push(part.into());
        self
    }

    /// Whether `prefix`'s parts are the leading parts of this key (a key starts with itself).
    pub fn starts_with(&self, prefix: &Key) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

/// Lower-case hex of `bytes`, for messages: the first 64 bytes, then `...`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let shown = bytes.get(..64).unwrap_or(bytes);
    let mut text = hex::encode(shown);
    if shown.len() < bytes.len() {
        text.push_str("...");
    }
    text
}

impl fmt::Display for Key {
    /// A readable tuple: `("users", 42, b"\x00", true)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match part {
                KeyPart::Bytes(b) => write!(f, "0x{}", hex(b))?,
                KeyPart::Str(s) => write!(f, "{s:?}")?,
                KeyPart::Int(i) => write!(f, "{i}")?,
                KeyPart::Bool(b) => write!(f, "{b}")?,
            }
        }
        f.write_str(")")
    }
}

impl From<&str> for KeyPart {
    fn from(s: &str) -> Self {
        KeyPart::Str(s.to_owned())
    }
}
impl From<String> for KeyPart {
    fn from(s: String) -> Self {
        KeyPart::Str(s)
    }
}
impl From<i64> for KeyPart {
    fn from(i: i64) -> Self {
        KeyPart::Int(i)
    }
}
impl From<i32> for KeyPart {
    fn from(i: i32) -> Self {
        KeyPart::Int(i.into())
    }
}
impl From<u32> for KeyPart {
    fn from(i: u32) -> Self {
        KeyPart::Int(i.into())
    }
}
impl From<bool> for KeyPart {
    fn from(b: bool) -> Self {
        KeyPart::Bool(b)
    }
}
impl From<Vec<u8>> for KeyPart {
    fn from(b: Vec<u8>) -> Self {
        KeyPart::Bytes(b)
    }
}
impl From<&[u8]> for KeyPart {
    fn from(b: &[u8]) -> Self {
        KeyPart::Bytes(b.to_vec())
    }
}
impl<const N: usize> From<&[u8; N]> for KeyPart {
    fn from(b: &[u8; N]) -> Self {
        KeyPart::Bytes(b.to_vec())
    }
}
impl FromIterator<KeyPart> for Key {
    fn from_iter<I: IntoIterator<Item = KeyPart>>(iter: I) -> Self {
        Key(iter.into_iter().collect())
    }
}
