//! How a `list` request becomes a span of encoded keys, and how the rows an adapter read become
//! a [`Page`] with a keyset cursor. Every adapter lists through this, so paging is identical.

use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::MAX_LIST_LIMIT;
use crate::model::{ByteRange, Cursor, Entry, ListOptions, Page, Selector};
use crate::value::Value;
use crate::version::Version;

/// A validated `list` request: read the stored rows in `range`, in descending order if
/// `reverse`, at most `fetch` of them (one more than the page holds, to know whether another
/// page follows), and hand every one of them to [`ListPlan::page`].
///
/// The span is in stored key bytes, not keys: a list of the whole key space (the empty
/// prefix) starts at `b""` and is unbounded above (`range.end == None`), so the adapter reads
/// every row of its namespace, whatever its first byte, and `page` reports a row that is no
/// key's encoding as `Corrupt` instead of the list skipping it. An adapter translates an
/// unbounded end into its own terms (a statement without an upper bound, the end of its
/// namespace's table keys); any other span reads as before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPlan {
    /// The span still to read (the cursor already applied); `end: None` for no upper bound.
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
                range.end = Some(last.to_vec());
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

    /// Builds the page from up to [`ListPlan::fetch`] rows (stored key bytes, value, version)
    /// read in plan order, checking every key's bytes (owned bytes become the key as they
    /// are). Every row of the page is checked, whatever its bytes: a row of the span is never
    /// skipped.
    ///
    /// # Errors
    /// `Corrupt` when stored key bytes are not the encoding of a key (the empty tuple
    /// included: no key is empty).
    pub fn page<K: Into<Vec<u8>>>(&self, rows: impl IntoIterator<Item = (K, Value, Version)>) -> Result<Page> {
        let mut entries: Vec<Entry> = Vec::with_capacity(self.limit);
        let mut more = false;
        for (encoded, value, version) in rows {
            if entries.len() == self.limit {
                more = true;
                break;
            }
            let key = Key::from_stored(encoded.into())?;
            if key.is_empty() {
                return Err(Error::Corrupt {
                    message: "a stored key is the empty key".into(),
                });
            }
            entries.push(Entry { key, value, version });
        }
        let cursor = match (more, entries.last()) {
            (true, Some(last)) => Some(Cursor::after_key(last.key.as_bytes(), self.reverse)),
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
        let whole = ListPlan::new(&Selector::prefix(Key::default()), &ListOptions::default()).unwrap();
        for bytes in [vec![], vec![0x00], vec![0x01], vec![0x01, 0xFF], vec![0xFF, 1, 2]] {
            let error = whole
                .page(vec![(bytes.clone(), Value::I64(0), Version(1))])
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Corrupt, "{bytes:02x?}");
        }
    }

    #[test]
    fn the_empty_prefix_spans_every_byte_string_and_bounds_narrow_it() {
        let whole = Selector::prefix(Key::default());
        assert_eq!(whole.byte_range().unwrap(), ByteRange::WHOLE);
        for bytes in [&[][..], &[0x00], &[0x01], &[0x01, 0xFF], &[0xFF; 3_000]] {
            assert!(ByteRange::WHOLE.contains(bytes), "{bytes:02x?}");
        }
        let from = whole.clone().start(key!["k"]).byte_range().unwrap();
        assert_eq!(
            from,
            ByteRange {
                start: key!["k"].encode(),
                end: None
            }
        );
        let until = whole.clone().end(key!["k"]).byte_range().unwrap();
        assert_eq!(until, ByteRange::new(Vec::new(), key!["k"].encode()));
        let nothing = whole.start(key!["k"]).end(key!["k"]).byte_range().unwrap();
        assert!(nothing.is_empty());
        // Every other span lies between two key encodings.
        assert!(Selector::prefix(key!["k"]).byte_range().unwrap().end.is_some());
        assert!(
            Selector::range(Key::default(), key!["k"])
                .byte_range()
                .unwrap()
                .end
                .is_some()
        );
    }

    #[test]
    fn cursors_page_through_the_whole_space() {
        let whole = Selector::prefix(Key::default());
        let first = ListPlan::new(&whole, &ListOptions::limit(2)).unwrap();
        let cursor = first.page(rows(&[1, 2, 3])).unwrap().cursor;
        let next = ListPlan::new(&whole, &ListOptions::limit(2).after(cursor)).unwrap();
        assert_eq!(next.range.end, None, "still unbounded above");
        assert!(!next.range.contains(&key!["k", 2].encode()));
        assert!(next.range.contains(&key!["k", 3].encode()) && next.range.contains(&[0xFF]));
        let back = ListPlan::new(&whole, &ListOptions::limit(2).reversed()).unwrap();
        let cursor = back.page(rows(&[9, 8, 7])).unwrap().cursor;
        let next = ListPlan::new(&whole, &ListOptions::limit(2).reversed().after(cursor)).unwrap();
        assert!(!next.range.contains(&key!["k", 8].encode()));
        assert!(next.range.contains(&key!["k", 7].encode()) && next.range.contains(&[0x00]));
    }
}
