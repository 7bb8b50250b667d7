//! The key space the library keeps for its own data (DESIGN §3): keys whose first part is a
//! string starting with `"\0enginedb"`. Feeds live there. Applications cannot write there, and
//! their lists skip it; a handle made for dump tools ([`crate::Db::with_library_keys`]) sees
//! and writes it like any other keys, so dumps carry it.

use crate::error::{Error, Result};
use crate::key::{Key, KeyPart};
use crate::model::{Selector, Write};

/// The first part of every library key.
pub(crate) const ROOT: &str = "\u{0}enginedb";

/// The encoding every reserved key starts with: the format byte, the string tag, and the
/// escaped text of [`ROOT`] (its leading NUL as `0x00 0xFF`).
const RESERVED_BYTES: &[u8] = b"\x01\x02\x00\xffenginedb";

/// A library key: `(ROOT, parts…)`.
pub(crate) fn key(parts: impl IntoIterator<Item = KeyPart>) -> Key {
    std::iter::once(KeyPart::from(ROOT)).chain(parts).collect()
}

/// Whether `key` lies in the reserved space.
pub(crate) fn is_reserved(key: &Key) -> bool {
    key.as_bytes().starts_with(RESERVED_BYTES)
}

/// The first key at or below which no reserved key lies (`(ROOT)` itself, which nothing
/// writes), and the first key above them all (`("\0enginedc")`).
fn bounds() -> (Key, Key) {
    (key([]), Key::from_parts(vec![KeyPart::from("\u{0}enginedc")]))
}

/// Refuses an application's write into the reserved space, with nothing written.
///
/// # Errors
/// `InvalidInput` naming the op.
pub(crate) fn refuse(op: &Write) -> Result<()> {
    let key = match op {
        Write::SetVersionstamped { prefix, .. } => Some(prefix),
        Write::DeleteRange { range } => {
            return match around(range) {
                Some(_) => Err(Error::on_write(Error::invalid(format!(
                    "delete_range over {range} would reach the library's reserved keys \
                     (first part starting with \"\\0enginedb\"): delete the application's prefixes instead"
                )))),
                None => Ok(()),
            };
        }
        other => other.key(),
    };
    match key {
        Some(key) if is_reserved(key) => Err(Error::on_write(Error::invalid(format!(
            "{key} is reserved for the library (its first part starts with \"\\0enginedb\")"
        )))),
        _ => Ok(()),
    }
}

/// The parts of `selector` below and above the reserved space, when it reaches into it
/// (either may select nothing); `None` when it does not.
pub(crate) fn around(selector: &Selector) -> Option<(Selector, Selector)> {
    let (lo, hi) = bounds();
    match selector {
        Selector::Prefix { prefix, .. } if !prefix.is_empty() => {
            // Extensions of a key are reserved exactly when the key is.
            is_reserved(prefix).then(|| (Selector::range(lo.clone(), lo), Selector::range(hi.clone(), hi)))
        }
        Selector::Prefix { prefix, start, end } => {
            let reaches = start.as_ref().is_none_or(|s| *s < hi) && end.as_ref().is_none_or(|e| *e > lo);
            reaches.then(|| {
                let below_end = end.clone().map_or(lo.clone(), |e| e.min(lo));
                let above_start = start.clone().map_or(hi.clone(), |s| s.max(hi));
                let below = Selector::Prefix {
                    prefix: prefix.clone(),
                    start: start.clone().map(|s| s.min(below_end.clone())),
                    end: Some(below_end),
                };
                let above = Selector::Prefix {
                    prefix: prefix.clone(),
                    start: Some(above_start.clone()),
                    end: end.clone().map(|e| e.max(above_start)),
                };
                (below, above)
            })
        }
        Selector::Range { start, end } => (*start < hi && *end > lo).then(|| {
            let below_end = end.clone().min(lo);
            let above_start = start.clone().max(hi);
            (
                Selector::range(start.clone().min(below_end.clone()), below_end),
                Selector::range(above_start.clone(), end.clone().max(above_start)),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key;

    #[test]
    fn the_reserved_space_is_every_key_under_a_root_string() {
        assert_eq!(&key([]).as_bytes()[..RESERVED_BYTES.len()], RESERVED_BYTES);
        for reserved in [
            key([KeyPart::Int(1)]),
            key!["\u{0}enginedb_x"],
            key!["\u{0}enginedb\u{0}", 1],
        ] {
            assert!(is_reserved(&reserved), "{reserved}");
            let (lo, hi) = bounds();
            assert!(lo <= reserved && reserved < hi, "{reserved}");
        }
        for free in [key!["\u{0}engined"], key!["\u{0}enginedc"], key!["enginedb"], key![1]] {
            assert!(!is_reserved(&free), "{free}");
        }
    }

    #[test]
    fn writes_there_are_refused_and_lists_go_around_it() {
        assert!(refuse(&Write::set(key([KeyPart::Int(1)]), 1)).is_err());
        assert!(refuse(&Write::set_versionstamped(key([]), 1)).is_err());
        assert!(refuse(&Write::delete_range(Selector::prefix(Key::default()))).is_err());
        assert!(refuse(&Write::set(key!["app"], 1)).is_ok());
        assert!(refuse(&Write::delete_range(Selector::prefix(key!["app"]))).is_ok());
        assert!(around(&Selector::prefix(key!["app"])).is_none());
        assert!(around(&Selector::range(key![1], key![2])).is_none());
        let (below, above) = around(&Selector::prefix(Key::default())).unwrap();
        let (lo, hi) = bounds();
        assert_eq!(below, Selector::prefix(Key::default()).end(lo));
        assert_eq!(above, Selector::prefix(Key::default()).start(hi));
        let (below, above) = around(&Selector::prefix(key([]))).unwrap();
        assert!(below.byte_range().unwrap().is_empty() && above.byte_range().unwrap().is_empty());
    }
}
