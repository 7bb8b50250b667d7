//! The layout in redb, and the port's operations on it.
//!
//! | table           | key                       | value                                        |
//! |-----------------|---------------------------|----------------------------------------------|
//! | `enginedb_kv`   | `(namespace, encoded key)`| format byte, version (u64 BE), payload        |
//! | `enginedb_meta` | name                      | `schema_version`, `last_version` (u64)        |
//!
//! Value format 1: `0x01` + version + the bytes, or `0x02` + version + the i64 (BE).

use enginedb::{ByteRange, Entry, Error, Key, ListPlan, OrderedKv, Page, Result, Stored, Value, Version};
use redb::{ReadableTable, Table, TableDefinition};

/// Entries of every namespace.
pub(crate) const ENTRIES: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("enginedb_kv");
/// Schema version and the last version drawn.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("enginedb_meta");

/// The layout version this build writes and reads.
pub(crate) const SCHEMA_VERSION: u64 = 1;

const BYTES: u8 = 0x01;
const COUNTER: u8 = 0x02;

/// The one mapping of redb errors to port errors.
pub(crate) fn map_err(error: impl Into<redb::Error>) -> Error {
    match error.into() {
        redb::Error::Corrupted(message) => Error::Corrupt { message },
        redb::Error::DatabaseAlreadyOpen => Error::Busy {
            message: "the redb file is open in another process".into(),
        },
        other => Error::backend("redb", other),
    }
}

/// `value` as stored by `version`: format byte, version (u64 BE), payload.
fn encode(value: &Value, version: Version) -> Vec<u8> {
    let (tag, payload) = match value {
        Value::Bytes(b) => (BYTES, b.as_slice()),
        Value::I64(n) => (COUNTER, &n.to_be_bytes()[..]),
    };
    let mut out = Vec::with_capacity(9 + payload.len());
    out.push(tag);
    out.extend_from_slice(&version.0.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn decode(bytes: &[u8]) -> Result<Stored> {
    let corrupt = |why: &str| Error::Corrupt {
        message: format!("stored redb value: {why}"),
    };
    let (&tag, rest) = bytes.split_first().ok_or_else(|| corrupt("empty"))?;
    let (version, payload) = rest
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt("truncated version"))?;
    let value = match tag {
        BYTES => Value::Bytes(payload.to_vec()),
        COUNTER => Value::I64(i64::from_be_bytes(
            payload.try_into().map_err(|_| corrupt("counter is not 8 bytes"))?,
        )),
        other => return Err(corrupt(&format!("unknown format {other:#04x}"))),
    };
    Ok(Stored {
        value,
        version: Version(u64::from_be_bytes(*version)),
    })
}

/// One row of [`ENTRIES`] as redb hands it out.
type Row<'a> = (
    redb::AccessGuard<'a, (&'static str, &'static [u8])>,
    redb::AccessGuard<'a, &'static [u8]>,
);

/// The entry at `key` in `table` (the key moves into it).
pub(crate) fn get(
    table: &impl ReadableTable<(&'static str, &'static [u8]), &'static [u8]>,
    namespace: &str,
    key: Key,
    writing: Option<Version>,
) -> Result<Option<Entry>> {
    let Some(found) = table.get((namespace, key.encode().as_slice())).map_err(map_err)? else {
        return Ok(None);
    };
    let stored = decode(found.value())?;
    Ok(Some(Entry {
        key,
        value: stored.value,
        version: stored.version.as_seen_by(writing),
    }))
}

/// One page of a list from `table`.
pub(crate) fn list(
    table: &impl ReadableTable<(&'static str, &'static [u8]), &'static [u8]>,
    namespace: &str,
    plan: &ListPlan,
    writing: Option<Version>,
) -> Result<Page> {
    if plan.range.is_empty() {
        return plan.page(Vec::new());
    }
    let range = table
        .range((namespace, plan.range.start.as_slice())..(namespace, plan.range.end.as_slice()))
        .map_err(map_err)?;
    let mut rows = Vec::with_capacity(plan.fetch());
    let mut push = |found: std::result::Result<Row<'_>, redb::StorageError>| -> Result<()> {
        let (key, value) = found.map_err(map_err)?;
        let stored = decode(value.value())?;
        rows.push((key.value().1.to_vec(), stored.value, stored.version.as_seen_by(writing)));
        Ok(())
    };
    if plan.reverse {
        range.rev().take(plan.fetch()).try_for_each(&mut push)?;
    } else {
        range.take(plan.fetch()).try_for_each(&mut push)?;
    }
    plan.page(rows)
}

/// Draws the next version in a write transaction.
pub(crate) fn draw_version(tx: &redb::WriteTransaction) -> Result<Version> {
    let mut meta = tx.open_table(META).map_err(map_err)?;
    let last = meta.get("last_version").map_err(map_err)?.map_or(0, |v| v.value());
    let next = last.checked_add(1).ok_or_else(|| Error::Corrupt {
        message: "the version counter is exhausted".into(),
    })?;
    meta.insert("last_version", next).map_err(map_err)?;
    Ok(Version(next))
}

/// Checks the recorded layout version (refusing a newer one) and records it if new.
pub(crate) fn check_schema(tx: &redb::WriteTransaction) -> Result<()> {
    let mut meta = tx.open_table(META).map_err(map_err)?;
    let recorded = meta.get("schema_version").map_err(map_err)?.map(|v| v.value());
    match recorded {
        Some(found) if found > SCHEMA_VERSION => Err(Error::IncompatibleSchema {
            found: i64::try_from(found).unwrap_or(i64::MAX),
            supported: SCHEMA_VERSION as i64,
        }),
        Some(_) => Ok(()),
        None => meta.insert("schema_version", SCHEMA_VERSION).map(drop).map_err(map_err),
    }?;
    drop(meta);
    tx.open_table(ENTRIES).map(drop).map_err(map_err)
}

/// The entries table of one namespace, as the port's reference semantics see it.
pub(crate) struct Namespaced<'k, 't, 'n> {
    pub(crate) table: &'k mut Table<'t, (&'static str, &'static [u8]), &'static [u8]>,
    pub(crate) namespace: &'n str,
}

impl Namespaced<'_, '_, '_> {
    /// Stores `value` written by `version` at `key`; returns what it replaced.
    pub(crate) fn replace(&mut self, key: &[u8], value: &Value, version: Version) -> Result<Option<Stored>> {
        let previous = self
            .table
            .insert((self.namespace, key), encode(value, version).as_slice())
            .map_err(map_err)?;
        previous.map(|found| decode(found.value())).transpose()
    }

    /// Removes `key`; returns what it held.
    pub(crate) fn take(&mut self, key: &[u8]) -> Result<Option<Stored>> {
        let previous = self.table.remove((self.namespace, key)).map_err(map_err)?;
        previous.map(|found| decode(found.value())).transpose()
    }

    /// The keys in `range`.
    pub(crate) fn keys(&self, range: &ByteRange) -> Result<Vec<Vec<u8>>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let bounds = (self.namespace, range.start.as_slice())..(self.namespace, range.end.as_slice());
        let mut keys = Vec::new();
        for found in self.table.range(bounds).map_err(map_err)? {
            let (key, _) = found.map_err(map_err)?;
            keys.push(key.value().1.to_vec());
        }
        Ok(keys)
    }
}

impl OrderedKv for Namespaced<'_, '_, '_> {
    fn get(&self, key: &[u8]) -> Result<Option<Stored>> {
        match self.table.get((self.namespace, key)).map_err(map_err)? {
            Some(found) => decode(found.value()).map(Some),
            None => Ok(None),
        }
    }

    fn put(&mut self, key: &[u8], value: &Value, version: Version) -> Result<()> {
        self.table
            .insert((self.namespace, key), encode(value, version).as_slice())
            .map(drop)
            .map_err(map_err)
    }

    fn remove(&mut self, key: &[u8]) -> Result<()> {
        self.table.remove((self.namespace, key)).map(drop).map_err(map_err)
    }

    fn remove_range(&mut self, range: &ByteRange) -> Result<()> {
        if range.is_empty() {
            return Ok(());
        }
        let bounds = (self.namespace, range.start.as_slice())..(self.namespace, range.end.as_slice());
        self.table.retain_in(bounds, |_, _| false).map_err(map_err)
    }

    fn fingerprint(&self, range: &ByteRange) -> Result<(u64, Option<Version>)> {
        if range.is_empty() {
            return Ok((0, None));
        }
        let bounds = (self.namespace, range.start.as_slice())..(self.namespace, range.end.as_slice());
        let mut fingerprint = (0, None);
        for found in self.table.range(bounds).map_err(map_err)? {
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
            let stored = decode(&encode(&value, version)).unwrap();
            assert_eq!(stored, Stored { value, version });
        }
        for garbage in [
            &[][..],
            &[1, 0, 0],
            &[2, 0, 0, 0, 0, 0, 0, 0, 1, 5],
            &[9, 0, 0, 0, 0, 0, 0, 0, 1],
        ] {
            assert_eq!(decode(garbage).unwrap_err().kind(), ErrorKind::Corrupt);
        }
    }
}
