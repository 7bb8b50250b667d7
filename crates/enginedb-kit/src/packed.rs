//! For adapter authors: keys sent to a reader thread, and the rows it read handed back, packed
//! into one buffer each way.
//!
//! Memory freed on another thread than the one that allocated it is costly with the system
//! allocator. Sent one by one, a `get_many` or a page of a list would cross threads as one or
//! more allocations per key and per value; packed, each side crosses as two, and the caller
//! builds the entries on its own thread.

use std::ops::Range;

use enginedb::port::ListPlan;
use enginedb::{Entry, Key, Page, Value, Version};
use enginedb::{Error, Result};

/// A stored value, borrowed from where it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// Opaque bytes.
    Bytes(&'a [u8]),
    /// A counter.
    I64(i64),
}

impl ValueRef<'_> {
    /// The owned value.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Bytes(bytes) => Value::Bytes(bytes.to_vec()),
            ValueRef::I64(n) => Value::I64(n),
        }
    }
}

/// Encoded keys, back to back, in the order given.
#[derive(Debug, Default)]
pub struct PackedKeys {
    bytes: Vec<u8>,
    /// Where each key ends in `bytes`.
    ends: Vec<usize>,
}

impl PackedKeys {
    /// The encoded forms of `keys`.
    pub fn new(keys: &[Key]) -> PackedKeys {
        let mut packed = PackedKeys {
            bytes: Vec::with_capacity(keys.iter().map(Key::encoded_len).sum()),
            ends: Vec::with_capacity(keys.len()),
        };
        for key in keys {
            key.encode_into(&mut packed.bytes);
            packed.ends.push(packed.bytes.len());
        }
        packed
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each encoded key, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.ends.iter().scan(0, |start, &end| {
            let key = self.bytes.get(*start..end);
            *start = end;
            key
        })
    }
}

/// Rows in read order: the entries of a list, or what each key of a `get_many` found.
#[derive(Debug, Default)]
pub struct PackedRows {
    /// Every row's encoded key and bytes value, back to back.
    bytes: Vec<u8>,
    rows: Vec<Row>,
}

/// One row: where its key lies in the buffer, and what was found.
#[derive(Debug)]
struct Row {
    key: Range<usize>,
    found: Option<(Payload, Version)>,
}

#[derive(Debug)]
enum Payload {
    Bytes(Range<usize>),
    I64(i64),
}

impl PackedRows {
    /// Room for `rows` rows.
    pub fn with_capacity(rows: usize) -> PackedRows {
        PackedRows {
            bytes: Vec::new(),
            rows: Vec::with_capacity(rows),
        }
    }

    /// Appends a listed entry: its encoded key, value and version (as the reader sees it).
    pub fn push_entry(&mut self, key: &[u8], value: ValueRef<'_>, version: Version) {
        let key = self.append(key);
        self.push(key, Some((value, version)));
    }

    /// Appends what one key of a `get_many` found (`None`: no entry).
    pub fn push_lookup(&mut self, found: Option<(ValueRef<'_>, Version)>) {
        let end = self.bytes.len();
        self.push(end..end, found);
    }

    fn push(&mut self, key: Range<usize>, found: Option<(ValueRef<'_>, Version)>) {
        if let (true, Some((ValueRef::Bytes(bytes), _))) = (self.rows.is_empty(), found) {
            // The first row: room for as many as announced, if they are like it.
            let row = key.len() + bytes.len();
            self.bytes.reserve(row.saturating_mul(self.rows.capacity()));
        }
        let found = found.map(|(value, version)| {
            let payload = match value {
                ValueRef::Bytes(bytes) => Payload::Bytes(self.append(bytes)),
                ValueRef::I64(n) => Payload::I64(n),
            };
            (payload, version)
        });
        self.rows.push(Row { key, found });
    }

    fn append(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    /// The page `plan` makes of these rows (pushed with [`PackedRows::push_entry`]).
    ///
    /// # Errors
    /// `Corrupt` when a stored key does not decode.
    pub fn page(&self, plan: &ListPlan) -> Result<Page> {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let (value, version) = self.found(row)?.ok_or_else(|| misused("a lookup in a list"))?;
                Ok((self.slice(&row.key)?, value, version))
            })
            .collect::<Result<Vec<_>>>()?;
        plan.page(rows)
    }

    /// The entries at `keys`, in order, from one row per key (pushed with
    /// [`PackedRows::push_lookup`]).
    ///
    /// # Errors
    /// `Corrupt` when there is not one row per key.
    pub fn entries(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        if keys.len() != self.rows.len() {
            return Err(misused(&format!("{} rows for {} keys", self.rows.len(), keys.len())));
        }
        keys.iter()
            .zip(&self.rows)
            .map(|(key, row)| {
                Ok(self.found(row)?.map(|(value, version)| Entry {
                    key: key.clone(),
                    value,
                    version,
                }))
            })
            .collect()
    }

    fn found(&self, row: &Row) -> Result<Option<(Value, Version)>> {
        let Some((payload, version)) = &row.found else {
            return Ok(None);
        };
        let value = match payload {
            Payload::Bytes(range) => Value::Bytes(self.slice(range)?.to_vec()),
            Payload::I64(n) => Value::I64(*n),
        };
        Ok(Some((value, *version)))
    }

    fn slice(&self, range: &Range<usize>) -> Result<&[u8]> {
        self.bytes
            .get(range.clone())
            .ok_or_else(|| misused("a row outside the buffer"))
    }
}

/// Rows an adapter packed wrongly (a bug, reported rather than panicking).
fn misused(what: &str) -> Error {
    Error::Corrupt {
        message: format!("packed rows hold {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use enginedb::port::ListOptions;
    use enginedb::{ErrorKind, Selector, key};

    #[test]
    fn a_list_page_unpacks_in_order_with_its_cursor() {
        let plan = ListPlan::new(&Selector::prefix(key!["k"]), &ListOptions::limit(2)).unwrap();
        let mut rows = PackedRows::with_capacity(plan.fetch());
        rows.push_entry(&key!["k", 1].encode(), ValueRef::Bytes(b"one"), Version(7));
        rows.push_entry(&key!["k", 2].encode(), ValueRef::I64(-2), Version(8));
        rows.push_entry(&key!["k", 3].encode(), ValueRef::Bytes(b""), Version(9));
        let page = rows.page(&plan).unwrap();
        let expected = vec![
            Entry {
                key: key!["k", 1],
                value: Value::Bytes(b"one".to_vec()),
                version: Version(7),
            },
            Entry {
                key: key!["k", 2],
                value: Value::I64(-2),
                version: Version(8),
            },
        ];
        assert_eq!(page.entries, expected);
        assert!(page.cursor.is_some(), "a third row was read: another page follows");
    }

    #[test]
    fn packed_keys_are_the_encoded_keys_in_order() {
        let keys = [key!["a", 1], key![], key![b"\x00".to_vec(), true]];
        let packed = PackedKeys::new(&keys);
        let encoded: Vec<Vec<u8>> = keys.iter().map(Key::encode).collect();
        assert_eq!(packed.iter().collect::<Vec<_>>(), encoded);
    }

    #[test]
    fn lookups_pair_with_their_keys() {
        let keys = [key!["a"], key!["b"], key!["c"]];
        let mut rows = PackedRows::default();
        rows.push_lookup(Some((ValueRef::Bytes(b"x"), Version(1))));
        rows.push_lookup(None);
        rows.push_lookup(Some((ValueRef::I64(i64::MIN), Version(2))));
        let entries = rows.entries(&keys).unwrap();
        let found: Vec<_> = entries
            .iter()
            .map(|e| e.as_ref().map(|e| (e.key.clone(), e.value.clone(), e.version)))
            .collect();
        assert_eq!(
            found,
            vec![
                Some((key!["a"], Value::Bytes(b"x".to_vec()), Version(1))),
                None,
                Some((key!["c"], Value::I64(i64::MIN), Version(2))),
            ]
        );
    }

    #[test]
    fn rows_that_do_not_match_the_request_are_errors_not_panics() {
        let mut rows = PackedRows::default();
        rows.push_lookup(None);
        assert_eq!(rows.entries(&[]).unwrap_err().kind(), ErrorKind::Corrupt);
        let plan = ListPlan::new(&Selector::prefix(key!["k"]), &ListOptions::limit(2)).unwrap();
        assert_eq!(rows.page(&plan).unwrap_err().kind(), ErrorKind::Corrupt);
    }
}
