//! How a `list` request becomes a span of encoded keys, and how the rows an adapter read become
//! a [`Page`] with a keyset cursor. Every adapter lists through this, so paging is identical.

use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::MAX_LIST_LIMIT;
use crate::model::{ByteRange, Cursor, Entry, ListOptions, Page, Selector, Version};
use crate::value::Value;

/// A validated `list` request: read the keys in `range`, in descending order if `reverse`, at
/// most `fetch` of them (one more than the page holds, to know whether another page follows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPlan {
    /// The span still to read (the cursor already applied).
    pub range: ByteRange,
    /// Descending order.
    pub reverse: bool,
    /// Entries the page holds at most.
    pub limit: usize,
}

impl ListPlan {
    /// Validates `selector` and `options` and narrows the span by the cursor.
    ///
    /// # Errors
    /// `InvalidInput` for a bad selector, a zero limit, or a cursor of another direction or
    /// outside the selector; `LimitExceeded` for a limit over [`MAX_LIST_LIMIT`].
    pub fn new(selector: &Selector, options: &ListOptions) -> Result<ListPlan> {
        if options.limit == 0 {
            return Err(Error::invalid("list limit must be at least 1"));
        }
        if options.limit > MAX_LIST_LIMIT {
            return Err(Error::LimitExceeded {
                what: "list limit",
                limit: MAX_LIST_LIMIT as u64,
                actual: options.limit as u64,
                nothing_written: false,
            });
        }
        let mut range = selector.byte_range()?;
        if let Some(cursor) = &options.cursor {
            let (last, reverse) = cursor.position()?;
            if reverse != options.reverse {
                return Err(Error::invalid("cursor was made for the other direction"));
            }
            if !range.contains(last) {
                return Err(Error::invalid("cursor does not belong to this selector"));
            }
            if reverse {
                range.end = last.to_vec();
            } else {
                range.start = successor(last);
            }
        }
        Ok(ListPlan {
            range,
            reverse: options.reverse,
            limit: options.limit,
        })
    }

    /// How many rows to read: one more than the page holds.
    pub fn fetch(&self) -> usize {
        self.limit + 1
    }

    /// Builds the page from up to [`ListPlan::fetch`] rows (encoded key, value, version) read in
    /// plan order, decoding keys.
    ///
    /// # Errors
    /// `Corrupt` when a stored key does not decode.
    pub fn page<K: AsRef<[u8]>>(&self, rows: impl IntoIterator<Item = (K, Value, Version)>) -> Result<Page> {
        let mut entries = Vec::with_capacity(self.limit);
        let mut more = false;
        let mut last = None;
        for (encoded, value, version) in rows {
            if entries.len() == self.limit {
                more = true;
                break;
            }
            entries.push(Entry {
                key: Key::decode(encoded.as_ref())?,
                value,
                version,
            });
            last = Some(encoded);
        }
        let cursor = match (more, last) {
            (true, Some(last)) => Some(Cursor::after_key(last.as_ref(), self.reverse)),
            _ => None,
        };
        Ok(Page { entries, cursor })
    }
}

/// The smallest byte string greater than `key`.
pub(crate) fn successor(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::{ErrorKind, key};

    fn rows(ids: &[i64]) -> Vec<(Vec<u8>, Value, Version)> {
        ids.iter()
            .map(|i| (key!["k", *i].encode(), Value::I64(*i), Version(1)))
            .collect()
    }

    #[rstest]
    #[case::fewer_than_limit(&[1, 2], 3, false)]
    #[case::exactly_limit(&[1, 2, 3], 3, false)]
    #[case::more_than_limit(&[1, 2, 3, 4], 3, true)]
    fn a_cursor_only_when_more_follows(#[case] ids: &[i64], #[case] limit: usize, #[case] cursor: bool) {
        let plan = ListPlan::new(&Selector::prefix(key!["k"]), &ListOptions::limit(limit)).unwrap();
        let page = plan.page(rows(ids)).unwrap();
        assert_eq!(page.entries.len(), ids.len().min(limit));
        assert_eq!(page.cursor.is_some(), cursor);
    }

    #[test]
    fn resuming_narrows_the_span_past_the_last_key() {
        let selector = Selector::prefix(key!["k"]);
        let first = ListPlan::new(&selector, &ListOptions::limit(2)).unwrap();
        let cursor = first.page(rows(&[1, 2, 3])).unwrap().cursor;
        let next = ListPlan::new(&selector, &ListOptions::limit(2).after(cursor)).unwrap();
        assert!(!next.range.contains(&key!["k", 2].encode()));
        assert!(next.range.contains(&key!["k", 3].encode()));
        let back = ListPlan::new(&selector, &ListOptions::limit(2).reversed()).unwrap();
        let cursor = back.page(rows(&[9, 8, 7])).unwrap().cursor;
        let next = ListPlan::new(&selector, &ListOptions::limit(2).reversed().after(cursor)).unwrap();
        assert!(!next.range.contains(&key!["k", 8].encode()));
        assert!(next.range.contains(&key!["k", 7].encode()));
    }

    #[rstest]
    #[case::zero_limit(ListOptions::limit(0), ErrorKind::InvalidInput)]
    #[case::big_limit(ListOptions::limit(MAX_LIST_LIMIT + 1), ErrorKind::LimitExceeded)]
    #[case::garbage_cursor(ListOptions::limit(1).after(Some(Cursor::from_bytes(vec![9]))), ErrorKind::InvalidInput)]
    #[case::empty_cursor(ListOptions::limit(1).after(Some(Cursor::from_bytes(vec![]))), ErrorKind::InvalidInput)]
    fn bad_options_are_refused(#[case] options: ListOptions, #[case] kind: ErrorKind) {
        let error = ListPlan::new(&Selector::prefix(key!["k"]), &options).unwrap_err();
        assert_eq!(error.kind(), kind);
    }

    #[test]
    fn undecodable_stored_keys_are_corrupt_not_skipped() {
        let plan = ListPlan::new(&Selector::prefix(key!["k"]), &ListOptions::default()).unwrap();
        let error = plan
            .page(vec![(vec![0x01, 0x09], Value::I64(0), Version(1))])
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Corrupt);
    }
}
