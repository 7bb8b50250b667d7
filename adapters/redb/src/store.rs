//! The layout in redb, and the port's operations on it.
//!
//! | table              | key                                      | value                                  |
//! |--------------------|------------------------------------------|----------------------------------------|
//! | `enginedb_entries` | namespace, `0x00`, encoded key           | format byte, version (u64 BE), payload  |
//! | `enginedb_meta`    | name                                     | `schema_version`, `last_version` (u64)  |
//!
//! A namespace name never holds `0x00`, so each namespace is one contiguous span of the table,
//! ordered by encoded key. Value format 1: `0x01` + version + the bytes, or `0x02` + version +
//! the i64 (BE).
//!
//! Layout 1 kept entries under tuple keys `(namespace, encoded key)` in `enginedb_kv`; redb
//! compares those part by part, which cost a sixth of each insert. Opening a layout-1 file
//! moves its entries over, in the same write transaction that records layout 2.

use enginedb::port::{ListPlan, OrderedKv, Stored};
use enginedb::{ByteRange, Entry, Error, Key, Result, Value, Version};
use enginedb_kit::packed::{PackedKeys, PackedRows, ValueRef};
use enginedb_kit::table_key::{encoded_key, table_key, table_key_into, table_span};
use redb::{ReadableTable, ReadableTableMetadata, Table, TableDefinition};

/// Entries of every namespace.
pub(crate) const ENTRIES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("enginedb_entries");
/// Schema version and the last version drawn.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("enginedb_meta");
/// Layout 1's entries, moved to [`ENTRIES`] on open.
const ENTRIES_V1: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("enginedb_kv");

/// The layout version this build writes and reads.
pub(crate) const SCHEMA_VERSION: u64 = 2;

const BYTES: u8 = 0x01;
const COUNTER: u8 = 0x02;

/// The entries table, as the writer and readers see it.
pub(crate) type Entries<'t> = Table<'t, &'static [u8], &'static [u8]>;

/// The one mapping of redb errors to port errors.
pub(crate) fn map_err(error: impl Into<redb::Error>) -> Error {
    match error.into() {
        redb::Error::Corrupted(message) => Error::Corrupt { message },
        redb::Error::DatabaseAlreadyOpen => Error::busy("the redb file is open in another process"),
        other => Error::backend("redb", other),
    }
}

/// Writes `value` as stored by `version` into `out` (cleared first): format byte, version
/// (u64 BE), payload.
fn encode_into(value: &Value, version: Version, out: &mut Vec<u8>) {
    let (tag, payload) = match value {
        Value::Bytes(b) => (BYTES, b.as_slice()),
        Value::I64(n) => (COUNTER, &n.to_be_bytes()[..]),
    };
    out.clear();
    out.push(tag);
    out.extend_from_slice(&version.0.to_be_bytes());
    out.extend_from_slice(payload);
}

/// The value and raw version of stored bytes, borrowed from them.
fn parse(bytes: &[u8]) -> Result<(ValueRef<'_>, u64)> {
    let corrupt = |why: &str| Error::Corrupt {
        message: format!("stored redb value: {why}"),
    };
    let (&tag, rest) = bytes.split_first().ok_or_else(|| corrupt("empty"))?;
    let (version, payload) = rest
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt("truncated version"))?;
    let value = match tag {
        BYTES => ValueRef::Bytes(payload),
        COUNTER => ValueRef::I64(i64::from_be_bytes(
            payload.try_into().map_err(|_| corrupt("counter is not 8 bytes"))?,
        )),
        other => return Err(corrupt(&format!("unknown format {other:#04x}"))),
    };
    Ok((value, u64::from_be_bytes(*version)))
}

/// The value and version of stored bytes as a read returns them, borrowed from them.
///
/// # Errors
/// `Corrupt` for bytes of no known format, or a version no commit has (0).
fn decode_ref(bytes: &[u8]) -> Result<(ValueRef<'_>, Version)> {
    let (value, version) = parse(bytes)?;
    Ok((value, Version::stored(version)?))
}

/// The stored value as a write sees it: the version as it is, so a write over a row of an
/// impossible version still replaces it (and an undo puts it back as it was).
fn decode(bytes: &[u8]) -> Result<Stored> {
    let (value, version) = parse(bytes)?;
    Ok(Stored {
        value: value.to_value(),
        version: Version(version),
    })
}

/// One row of [`ENTRIES`] as redb hands it out.
type Row<'a> = (
    redb::AccessGuard<'a, &'static [u8]>,
    redb::AccessGuard<'a, &'static [u8]>,
);

/// The entry at `key` in `namespace` of `table` (the key moves into it).
pub(crate) fn get(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    namespace: &str,
    key: Key,
    writing: Option<Version>,
) -> Result<Option<Entry>> {
    let Some(found) = table
        .get(table_key(namespace, key.as_bytes()).as_slice())
        .map_err(map_err)?
    else {
        return Ok(None);
    };
    let (value, version) = decode_ref(found.value())?;
    Ok(Some(Entry {
        key,
        value: value.to_value(),
        version: version.as_seen_by(writing),
    }))
}

/// What each of the `keys` (encoded) holds in `namespace` of `table`, in order.
pub(crate) fn lookups(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    namespace: &str,
    keys: &PackedKeys,
    writing: Option<Version>,
) -> Result<PackedRows> {
    let mut rows = PackedRows::with_capacity(keys.len());
    let mut table_key = Vec::new();
    for key in keys.iter() {
        table_key_into(namespace, key, &mut table_key);
        match table.get(table_key.as_slice()).map_err(map_err)? {
            Some(found) => {
                let (value, version) = decode_ref(found.value())?;
                rows.push_lookup(Some((value, version.as_seen_by(writing))));
            }
            None => rows.push_lookup(None),
        }
    }
    Ok(rows)
}

/// The rows of one page of a list from `namespace` of `table`.
pub(crate) fn list(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    namespace: &str,
    plan: &ListPlan,
    writing: Option<Version>,
) -> Result<PackedRows> {
    let mut rows = PackedRows::with_capacity(plan.fetch());
    if plan.range.is_empty() {
        return Ok(rows);
    }
    let span = table_span(namespace, &plan.range);
    let range = table
        .range(span.start.as_slice()..span.end.as_slice())
        .map_err(map_err)?;
    let mut push = |found: std::result::Result<Row<'_>, redb::StorageError>| -> Result<()> {
        let (key, value) = found.map_err(map_err)?;
        let (value, version) = decode_ref(value.value())?;
        rows.push_entry(encoded_key(namespace, key.value())?, value, version.as_seen_by(writing));
        Ok(())
    };
    if plan.reverse {
        range.rev().take(plan.fetch()).try_for_each(&mut push)?;
    } else {
        range.take(plan.fetch()).try_for_each(&mut push)?;
    }
    Ok(rows)
}

/// The last version drawn. Every store records one from its creation on: a missing one is
/// corrupt data, never a reason to start versions again at 1.
pub(crate) fn last_version(meta: &impl ReadableTable<&'static str, u64>) -> Result<u64> {
    match meta.get("last_version").map_err(map_err)? {
        Some(last) => Ok(last.value()),
        None => Err(Error::Corrupt {
            message: "the version counter (last_version) is missing".into(),
        }),
    }
}

/// Draws the next version in a write transaction.
pub(crate) fn draw_version(tx: &redb::WriteTransaction) -> Result<Version> {
    let mut meta = tx.open_table(META).map_err(map_err)?;
    let last = last_version(&meta)?;
    let next = last.checked_add(1).ok_or_else(|| Error::Corrupt {
        message: "the version counter is exhausted".into(),
    })?;
    meta.insert("last_version", next).map_err(map_err)?;
    Ok(Version(next))
}

/// Checks the recorded layout version (refusing a newer one), upgrades layout 1, and records
/// this layout if new.
pub(crate) fn check_schema(tx: &redb::WriteTransaction) -> Result<()> {
    let mut meta = tx.open_table(META).map_err(map_err)?;
    let recorded = meta.get("schema_version").map_err(map_err)?.map(|v| v.value());
    match recorded {
        Some(found) if found > SCHEMA_VERSION => {
            return Err(Error::IncompatibleSchema {
                found: i64::try_from(found).unwrap_or(i64::MAX),
                supported: SCHEMA_VERSION as i64,
            });
        }
        Some(SCHEMA_VERSION) => {}
        Some(_) => {
            upgrade_from_1(tx)?;
            meta.insert("schema_version", SCHEMA_VERSION).map_err(map_err)?;
        }
        None => {
            meta.insert("schema_version", SCHEMA_VERSION).map_err(map_err)?;
        }
    }
    let entries = tx.open_table(ENTRIES).map_err(map_err)?;
    if meta.get("last_version").map_err(map_err)?.is_none() {
        // A store that never committed has no counter yet (stores made before it was recorded
        // at creation); one that holds entries must have one.
        if !entries.is_empty().map_err(map_err)? {
            return Err(Error::Corrupt {
                message: "the version counter (last_version) is missing while entries exist".into(),
            });
        }
        meta.insert("last_version", 0).map_err(map_err)?;
    }
    Ok(())
}

/// Moves layout 1's entries, bytes unchanged, to their layout-2 keys and drops its table.
fn upgrade_from_1(tx: &redb::WriteTransaction) -> Result<()> {
    let mut entries = tx.open_table(ENTRIES).map_err(map_err)?;
    {
        let old = tx.open_table(ENTRIES_V1).map_err(map_err)?;
        let mut key = Vec::new();
        for found in old.iter().map_err(map_err)? {
            let (old_key, value) = found.map_err(map_err)?;
            let (namespace, encoded) = old_key.value();
            table_key_into(namespace, encoded, &mut key);
            entries.insert(key.as_slice(), value.value()).map_err(map_err)?;
        }
    }
    drop(entries);
    tx.delete_table(ENTRIES_V1).map(drop).map_err(map_err)
}

/// One namespace of the entries table, as the port's reference semantics see it.
pub(crate) struct Namespaced<'k, 't, 'n> {
    table: &'k mut Entries<'t>,
    namespace: &'n str,
    /// Scratch space for the table key and the stored value of a write.
    key: Vec<u8>,
    value: Vec<u8>,
}

impl<'k, 't, 'n> Namespaced<'k, 't, 'n> {
    pub(crate) fn new(table: &'k mut Entries<'t>, namespace: &'n str) -> Self {
        Namespaced {
            table,
            namespace,
            key: Vec::new(),
            value: Vec::new(),
        }
    }

    /// Builds the table key and stored bytes of a write in the scratch buffers.
    fn stage(&mut self, key: &[u8], value: &Value, version: Version) {
        table_key_into(self.namespace, key, &mut self.key);
        encode_into(value, version, &mut self.value);
    }
}

impl OrderedKv for Namespaced<'_, '_, '_> {
    fn get(&self, key: &[u8]) -> Result<Option<Stored>> {
        match self
            .table
            .get(table_key(self.namespace, key).as_slice())
            .map_err(map_err)?
        {
            Some(found) => decode(found.value()).map(Some),
            None => Ok(None),
        }
    }

    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<Option<Stored>> {
        self.stage(key, value, version);
        let previous = self
            .table
            .insert(self.key.as_slice(), self.value.as_slice())
            .map_err(map_err)?;
        previous.map(|found| decode(found.value())).transpose()
    }

    fn remove(&mut self, key: &[u8]) -> Result<Option<Stored>> {
        table_key_into(self.namespace, key, &mut self.key);
        let previous = self.table.remove(self.key.as_slice()).map_err(map_err)?;
        previous.map(|found| decode(found.value())).transpose()
    }

    fn keys(&self, range: &ByteRange) -> Result<Vec<Vec<u8>>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let span = table_span(self.namespace, range);
        let mut keys = Vec::new();
        for found in self
            .table
            .range(span.start.as_slice()..span.end.as_slice())
            .map_err(map_err)?
        {
            let (key, _) = found.map_err(map_err)?;
            keys.push(encoded_key(self.namespace, key.value())?.to_vec());
        }
        Ok(keys)
    }

    fn remove_range(&mut self, range: &ByteRange) -> Result<()> {
        if range.is_empty() {
            return Ok(());
        }
        let span = table_span(self.namespace, range);
        self.table
            .retain_in(span.start.as_slice()..span.end.as_slice(), |_, _| false)
            .map_err(map_err)
    }

    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)> {
        if range.is_empty() {
            return Ok((0, None));
        }
        let span = table_span(self.namespace, range);
        let mut fingerprint = (0, None);
        for found in self
            .table
            .range(span.start.as_slice()..span.end.as_slice())
            .map_err(map_err)?
        {
            let (_, value) = found.map_err(map_err)?;
            let version = decode(value.value())?.version;
            fingerprint = (fingerprint.0 + 1, fingerprint.1.max(Some(version)));
        }
        Ok(fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use enginedb::ErrorKind;

    use super::*;

    #[test]
    fn values_roundtrip_and_garbage_is_corrupt() {
        for value in [
            Value::Bytes(vec![]),
            Value::Bytes(vec![0, 255]),
            Value::I64(i64::MIN),
            Value::I64(i64::MAX),
        ] {
            let version = Version(u64::MAX - 1);
            let mut bytes = Vec::new();
            encode_into(&value, version, &mut bytes);
            let stored = decode(&bytes).unwrap();
            assert_eq!(stored, Stored { value, version });
        }
        for garbage in [
            &[][..],
            &[1, 0, 0],
            &[2, 0, 0, 0, 0, 0, 0, 0, 1, 5],
            &[9, 0, 0, 0, 0, 0, 0, 0, 1],
        ] {
            assert_eq!(decode(garbage).unwrap_err().kind(), ErrorKind::Corrupt);
            assert_eq!(decode_ref(garbage).unwrap_err().kind(), ErrorKind::Corrupt);
        }
        let version_zero = [1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode_ref(&version_zero).unwrap_err().kind(), ErrorKind::Corrupt);
        assert_eq!(
            decode(&version_zero).unwrap().version,
            Version(0),
            "a write still replaces it"
        );
    }
}
