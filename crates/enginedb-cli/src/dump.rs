//! The dump format, version 1: JSON Lines.
//!
//! ```text
//! {"enginedb-dump":1}
//! {"k":["users",42],"v":{"bytes":"616461"}}
//! {"k":["visits"],"v":{"i64":"7"}}
//! {"end":2,"version":9}
//! ```
//!
//! A header naming the format version, one entry per line in strictly ascending key order (so
//! no key twice), and a trailer with the entry count, so a truncated dump is detected, and the
//! largest version among the entries; nothing may follow the trailer. Keys and values are
//! preserved; versions are not (the importing store stamps its own), but an import advances
//! the store's versions past the trailer's, so keys stamped with versions afterwards (feed
//! events) sort after the restored ones. A trailer without `version` (older dumps) advances
//! nothing.
//!
//! Export reads one snapshot: the whole listing runs in one transaction that writes nothing
//! and is rolled back (SQLite and redb hold their writer meanwhile; PostgreSQL reads one
//! snapshot); the trailer is written only once the listing is complete. Import streams: by
//! default it writes the whole dump in one transaction (all or nothing; SQLite and redb hold
//! their writer for it, PostgreSQL one connection), so a dump that fails anywhere — a bad
//! line, a truncated end, a store error — leaves the store as it was. With `--partial` it
//! writes units of at most 500 entries and 4 MiB as it reads, and says how many were written
//! when it stops. A transaction left waiting on a slow reader or writer past the store's idle
//! timeout (30 s on SQLite and redb) fails: nothing of an import is then written.

use std::io::{BufRead, Read as _};
use std::pin::pin;

use enginedb::port::op_size;
use enginedb::{Atomicity, Db, Error, ErrorKind, Key, Result, RetryPolicy, Selector, Value, Version, Write};
use futures::TryStreamExt;
use serde_json::{Value as Json, json};

use crate::syntax;

/// The dump format this build writes and reads.
pub(crate) const VERSION: u64 = 1;

/// Entries per unit when importing with `--partial`, and between sends of a transaction.
const UNIT: usize = 500;
/// Bytes per unit when importing with `--partial`: half the unit limit.
const UNIT_BYTES: usize = enginedb::limits::MAX_UNIT_BYTES / 2;
/// The longest line a dump can hold: a key and a value at their limits, in hex, with room.
const MAX_LINE: usize = 2 * (enginedb::limits::MAX_KEY_BYTES + enginedb::limits::MAX_VALUE_BYTES) + 64 * 1024;

/// Writes every entry of `db` to `out`, from one snapshot where the store has transactions
/// (a batch-only store checks at the end that nothing it read changed); returns how many. The
/// trailer is written only once every entry was read from that snapshot.
pub(crate) async fn export(db: &Db, out: &mut dyn std::io::Write, progress: &indicatif::ProgressBar) -> Result<u64> {
    // A dump carries the library's own keys (feeds) too.
    let db = &db.clone().with_library_keys();
    let io = |e: std::io::Error| Error::backend("export", e);
    writeln!(out, "{}", json!({ "enginedb-dump": VERSION })).map_err(io)?;
    let capabilities = db.capabilities();
    let (count, version) = if capabilities.transactions {
        // The body always "fails", so the transaction is rolled back: it wrote nothing.
        let mut out = Some(out);
        let listed = db
            .transaction()
            .retry(RetryPolicy::NONE)
            .run(async |tx| {
                let out = out
                    .take()
                    .ok_or(Listed::Failed(Error::invalid("the export ran twice")))?;
                let entries = tx.list(Selector::prefix(Key::default())).stream();
                let count = write_entries(entries, out, progress).await?;
                Err::<(), _>(Listed::Done(count, out))
            })
            .await;
        match listed {
            Err(Listed::Done((count, version), out)) => {
                writeln!(out, "{}", json!({ "end": count, "version": version.0 })).map_err(io)?;
                out.flush().map_err(io)?;
                return Ok(count);
            }
            Err(Listed::Failed(error)) => return Err(error),
            Ok(_) => return Err(Error::invalid("the export's transaction committed")),
        }
    } else if capabilities.batches {
        let exported = db
            .transaction()
            .retry(RetryPolicy::NONE)
            .run(async |tx| write_entries(tx.list(Selector::prefix(Key::default())).stream(), out, progress).await)
            .await?;
        exported.value
    } else {
        eprintln!("enginedb: warning: this store has no transactions: the dump is not one snapshot");
        write_entries(db.list(Selector::prefix(Key::default())).stream(), out, progress).await?
    };
    writeln!(out, "{}", json!({ "end": count, "version": version.0 })).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(count)
}

/// How the listing of a native snapshot ended (as the body's "error", so it is rolled back).
enum Listed<'o> {
    Done((u64, Version), &'o mut dyn std::io::Write),
    Failed(Error),
}

impl From<Error> for Listed<'_> {
    fn from(error: Error) -> Self {
        Listed::Failed(error)
    }
}

/// Writes the entries, one line each; returns how many, and the largest version among them.
async fn write_entries(
    entries: impl futures::Stream<Item = Result<enginedb::Entry>>,
    out: &mut dyn std::io::Write,
    progress: &indicatif::ProgressBar,
) -> Result<(u64, Version)> {
    let io = |e: std::io::Error| Error::backend("export", e);
    let mut entries = pin!(entries);
    let (mut count, mut version) = (0u64, Version(0));
    while let Some(entry) = entries.try_next().await? {
        version = version.max(entry.version);
        let line = json!({ "k": syntax::key_json(&entry.key), "v": syntax::value_json(&entry.value) });
        writeln!(out, "{line}").map_err(io)?;
        count += 1;
        progress.set_position(count);
    }
    Ok((count, version))
}

/// A line of a dump that is not what it must be.
fn bad(line: usize, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("dump line {line}: {what}"))
}

/// Reads a dump entry by entry, checking each line as it comes: the header first, entries in
/// strictly ascending key order, each one a store can hold, the trailer's count, nothing after
/// it. Memory stays bounded: one line at a time, of at most [`MAX_LINE`] bytes.
pub(crate) struct Reader<R> {
    input: R,
    line: usize,
    count: u64,
    last: Option<Vec<u8>>,
    /// The trailer's version, once read.
    version: Version,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// `InvalidInput` naming line 1.
    pub(crate) fn new(input: R) -> Result<Self> {
        let mut reader = Reader {
            input,
            line: 0,
            count: 0,
            last: None,
            version: Version(0),
            done: false,
        };
        let header = reader
            .next_line()?
            .ok_or_else(|| bad(1, "empty input: no dump header"))?;
        match header.get("enginedb-dump").and_then(Json::as_u64) {
            Some(VERSION) if header.as_object().is_some_and(|o| o.len() == 1) => Ok(reader),
            Some(other) if other != VERSION => Err(bad(
                1,
                format!("dump format {other} is not supported (this build reads {VERSION})"),
            )),
            _ => Err(bad(1, "not an enginedb dump header")),
        }
    }

    /// Entries read so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The largest version among the dump's entries, as its trailer says (0 before the trailer
    /// or when it does not say).
    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// The next line, its end (`\n` or `\r\n`) cut, or `None` at the end of the input.
    fn next_raw(&mut self) -> Result<Option<Vec<u8>>> {
        let mut bytes = Vec::new();
        let read = std::io::Read::by_ref(&mut self.input)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut bytes)
            .map_err(|e| bad(self.line + 1, e))?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        for end in [b'\n', b'\r'] {
            if bytes.last() == Some(&end) {
                bytes.pop();
            }
        }
        if bytes.len() > MAX_LINE {
            return Err(bad(self.line, format!("the line is longer than {MAX_LINE} bytes")));
        }
        Ok(Some(bytes))
    }

    /// The next line as JSON, or `None` at the end of the input.
    fn next_line(&mut self) -> Result<Option<Json>> {
        let Some(bytes) = self.next_raw()? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| bad(self.line, format!("not JSON: {e}")))
    }

    /// The next entry, or `None` after the trailer (checked, with nothing after it).
    ///
    /// # Errors
    /// `InvalidInput` naming the line: not JSON, not an entry or a trailer, a key out of order
    /// or repeated, an entry no store can hold, a wrong count, a line after the trailer, or the
    /// end of the input before the trailer.
    pub(crate) fn next_entry(&mut self) -> Result<Option<(Key, Value)>> {
        if self.done {
            return Ok(None);
        }
        let Some(json) = self.next_line()? else {
            return Err(bad(self.line + 1, "the dump is truncated: it has no trailer"));
        };
        let n = self.line;
        let fields = json.as_object().map_or(0, serde_json::Map::len);
        let version = json.get("version");
        if let (Some(end), true) = (json.get("end"), fields == 1 + usize::from(version.is_some())) {
            if let Some(version) = version {
                let version = version.as_u64().filter(|v| *v <= Version::MAX_ADVANCE.0);
                self.version = Version(
                    version.ok_or_else(|| bad(n, "the trailer's version is not one a store can advance past"))?,
                );
            }
            if end.as_u64() != Some(self.count) {
                return Err(bad(
                    n,
                    format!("the trailer counts {end} entries, the dump holds {}", self.count),
                ));
            }
            if self.next_raw()?.is_some() {
                return Err(bad(self.line, "nothing may follow the trailer"));
            }
            self.done = true;
            return Ok(None);
        }
        let (Some(k), Some(v), 2) = (json.get("k"), json.get("v"), fields) else {
            return Err(bad(
                n,
                "a line is an entry {\"k\", \"v\"} or the trailer {\"end\", \"version\"}",
            ));
        };
        let key = syntax::key_from_json(k).map_err(|e| bad(n, e))?;
        let value = syntax::value_from_json(v).map_err(|e| bad(n, e))?;
        // Every store can hold it (the limits of `enginedb::limits`).
        let op = Write::set(key, value);
        op.validate().map_err(|e| bad(n, e))?;
        let Write::Set { key, value } = op else {
            return Err(bad(n, "an entry is a set"));
        };
        let encoded = key.encode();
        if self.last.as_ref().is_some_and(|last| *last >= encoded) {
            return Err(bad(
                n,
                format!("{key} is not after the key before it (repeated or out of order)"),
            ));
        }
        self.last = Some(encoded);
        self.count += 1;
        Ok(Some((key, value)))
    }
}

/// Imports the whole dump in one transaction: all of it, or nothing; then advances the store's
/// versions past the dump's. Returns how many entries.
pub(crate) async fn import_all(
    db: &Db,
    reader: Reader<impl BufRead>,
    progress: &indicatif::ProgressBar,
) -> Result<u64> {
    let db = &db.clone().with_library_keys();
    let mut reader = Some(reader);
    let imported = db
        .transaction()
        .retry(RetryPolicy::NONE)
        .run(async |tx| {
            let mut reader = reader.take().ok_or_else(|| Error::invalid("the import ran twice"))?;
            let mut bytes = 0;
            while let Some((key, value)) = reader.next_entry()? {
                let op = Write::set(key, value);
                bytes += op_size(&op);
                tx.write(op);
                if reader.count().is_multiple_of(UNIT as u64) || bytes > UNIT_BYTES {
                    tx.flush().await?;
                    bytes = 0;
                    progress.set_position(reader.count());
                }
            }
            Ok::<_, Error>((reader.count(), reader.version()))
        })
        .await?;
    let (count, version) = imported.value;
    progress.set_position(count);
    advance_past(db, count, version).await?;
    Ok(count)
}

/// Imports units of at most [`UNIT`] entries and [`UNIT_BYTES`] as the dump is read; at the
/// first bad line or store error, stops and says how many entries were written before it.
pub(crate) async fn import_partial(
    db: &Db,
    mut reader: Reader<impl BufRead>,
    progress: &indicatif::ProgressBar,
) -> (u64, Result<()>) {
    let db = &db.clone().with_library_keys();
    let mut written = 0u64;
    let mut unit: Vec<Write> = Vec::with_capacity(UNIT);
    let mut bytes = 0;
    loop {
        // The entry read, or why the dump ended; what was gathered goes first either way.
        let next = reader
            .next_entry()
            .map(|entry| entry.map(|(key, value)| Write::set(key, value)));
        let size = match &next {
            Ok(Some(op)) => op_size(op),
            _ => 0,
        };
        let ends = !matches!(next, Ok(Some(_)));
        if !unit.is_empty() && (ends || unit.len() == UNIT || bytes + size > UNIT_BYTES) {
            if let Err(error) = db.write(&unit, Atomicity::BestEffort).await {
                return (written, Err(error));
            }
            written += unit.len() as u64;
            progress.set_position(written);
            unit.clear();
            bytes = 0;
        }
        match next {
            Ok(Some(op)) => {
                unit.push(op);
                bytes += size;
            }
            Ok(None) => return (written, advance_past(db, written, reader.version()).await),
            Err(error) => return (written, Err(error)),
        }
    }
}

/// Advances `db`'s versions past `version` (0: the dump does not say), once `written` entries
/// of a dump are in.
async fn advance_past(db: &Db, written: u64, version: Version) -> Result<()> {
    match db.advance_version(version).await {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::Unsupported => {
            eprintln!(
                "enginedb: warning: this store cannot advance its versions past the dump's ({version}): \
                 events emitted from now on may sort before restored ones ({error})"
            );
            Ok(())
        }
        Err(error) => Err(Error::backend(
            "import",
            format!(
                "the {written} entries were written, but the store's versions could not be advanced \
                 past the dump's ({version}), so events emitted from now on may sort before restored \
                 ones: {error}; import the dump again (it writes the same entries)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use enginedb::{ErrorKind, key};

    use super::*;

    fn read_all(text: &str) -> Result<Vec<(Key, Value)>> {
        let mut reader = Reader::new(text.as_bytes())?;
        let mut entries = Vec::new();
        while let Some(entry) = reader.next_entry()? {
            entries.push(entry);
        }
        Ok(entries)
    }

    #[test]
    fn reads_good_dumps_and_names_the_bad_line() {
        let good = "{\"enginedb-dump\":1}\n{\"k\":[\"a\",1],\"v\":{\"i64\":\"-5\"}}\n{\"end\":1}\n";
        assert_eq!(read_all(good).unwrap(), vec![(key!["a", 1], Value::I64(-5))]);
        let entry = |k: &str| format!("{{\"k\":[\"{k}\"],\"v\":{{\"i64\":\"1\"}}}}\n");
        let dump = |lines: &[String]| format!("{{\"enginedb-dump\":1}}\n{}", lines.concat());
        let long_key = dump(&[
            entry(&"x".repeat(enginedb::limits::MAX_KEY_BYTES)),
            "{\"end\":1}\n".into(),
        ]);
        let cases = [
            (String::new(), "no dump header"),
            ("{\"enginedb-dump\":2}\n{\"end\":0}\n".into(), "line 1"),
            ("{\"enginedb-dump\":1,\"end\":0}\n".into(), "line 1"),
            (
                dump(&[entry("a"), "{\"end\":1}\n".into(), "\n".into()]),
                "follow the trailer",
            ),
            (dump(&["{\"k\":[\"a\"]}\n".into(), "{\"end\":1}\n".into()]), "line 2"),
            (
                dump(&[entry("a"), "{\"k\":[1.5],\"v\":{\"i64\":\"1\"}}\n".into()]),
                "line 3",
            ),
            (dump(&[entry("a")]), "truncated"),
            (dump(&[entry("a"), "{\"end\":2}\n".into()]), "line 3"),
            (
                dump(&["{\"k\":[],\"v\":{\"i64\":\"1\"}}\n".into(), "{\"end\":1}\n".into()]),
                "line 2",
            ),
            (dump(&[entry("b"), entry("a"), "{\"end\":2}\n".into()]), "line 3"),
            (dump(&[entry("a"), entry("a"), "{\"end\":2}\n".into()]), "line 3"),
            (dump(&[entry("a"), "{\"end\":1}\n".into(), entry("b")]), "line 4"),
            (dump(&[entry("a"), "{\"end\":1}\n".into(), "\n".into()]), "line 4"),
            (
                dump(&["{\"k\":[\"a\"],\"v\":{\"i64\":\"1\"},\"end\":1}\n".into()]),
                "line 2",
            ),
            (long_key, "line 2"),
            (
                dump(&[
                    entry("a"),
                    format!("{{\"end\":1,\"version\":{}}}\n", Version::MAX_ADVANCE.0 + 1),
                ]),
                "the trailer's version",
            ),
        ];
        for (text, says) in cases {
            let error = read_all(&text).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput);
            assert!(error.to_string().contains(says), "{text:?}: {error}");
        }
    }

    #[test]
    fn line_ends_and_the_last_line_are_read_as_written() {
        let crlf = "{\"enginedb-dump\":1}\r\n{\"k\":[\"a\"],\"v\":{\"i64\":\"1\"}}\r\n{\"end\":1}";
        assert_eq!(read_all(crlf).unwrap(), vec![(key!["a"], Value::I64(1))]);
    }

    #[test]
    fn a_line_without_end_is_refused_with_bounded_memory() {
        let endless = std::io::Read::chain(&b"{\"enginedb-dump\":1}\n"[..], std::io::repeat(b' '));
        let mut reader = Reader::new(std::io::BufReader::new(endless)).unwrap();
        let error = reader.next_entry().unwrap_err();
        assert!(error.to_string().contains("longer than"), "{error}");
    }
}
