//! Tuple keys and the parts they are made of. Their byte encoding, and every method that
//! reads or writes it, is in `codec`.

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
///
/// A key holds its encoding (see [`Key::encode`]), so reading one from the store, comparing,
/// hashing or writing it never converts parts; [`Key::parts`] decodes them on demand.
/// Keys order as their tuples do (DESIGN §3), which is the byte order of their encodings.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub(crate) Vec<u8>);

/// Builds a [`Key`] from values convertible into [`KeyPart`]: `key!["users", 42]`.
#[macro_export]
macro_rules! key {
    ($($part:expr),* $(,)?) => {
        $crate::Key::from_parts(vec![$($crate::KeyPart::from($part)),*])
    };
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
