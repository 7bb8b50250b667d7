//! The dump format, version 1: JSON Lines.
//!
//! ```text
//! {"enginedb-dump":1}
//! {"k":["users",42],"v":{"bytes":"616461"}}
//! {"k":["visits"],"v":{"i64":"7"}}
//! {"end":2}
//! ```
//!
//! A header naming the format version, one entry per line in key order, and a trailer with the
//! entry count, so a truncated dump is detected. Keys and values are preserved; versions are
//! not (the importing store stamps its own).

use std::io::BufRead;
use std::pin::pin;

use enginedb::{Atomicity, Db, Error, Key, Result, Selector, Value, Write};
use futures::TryStreamExt;
use serde_json::{Value as Json, json};

use crate::syntax;

/// The dump format this build writes and reads.
pub(crate) const VERSION: u64 = 1;

/// Entries per unit when importing.
const UNIT: usize = 500;

/// Writes every entry of `db` to `out`; returns how many.
pub(crate) async fn export(db: &Db, out: &mut dyn std::io::Write, progress: &indicatif::ProgressBar) -> Result<u64> {
    let io = |e: std::io::Error| Error::backend("export", e);
    writeln!(out, "{}", json!({ "enginedb-dump": VERSION })).map_err(io)?;
    let mut entries = pin!(db.list(Selector::prefix(Key::default())).stream());
    let mut count = 0u64;
    while let Some(entry) = entries.try_next().await? {
        let line = json!({ "k": syntax::key_json(&entry.key), "v": syntax::value_json(&entry.value) });
        writeln!(out, "{line}").map_err(io)?;
        count += 1;
        progress.set_position(count);
    }
    writeln!(out, "{}", json!({ "end": count })).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(count)
}

/// A line of a dump that is not what it must be.
fn bad(line: usize, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("dump line {line}: {what}"))
}

/// Reads and checks a whole dump, calling `entry` for each entry in order. Fails at the first
/// bad line (naming it) or at a missing trailer (truncated input).
pub(crate) fn read(input: impl BufRead, mut entry: impl FnMut(Key, Value) -> Result<()>) -> Result<u64> {
    let mut lines = input.lines().enumerate().map(|(i, line)| (i + 1, line));
    let header = match lines.next() {
        Some((_, Ok(text))) => serde_json::from_str::<Json>(&text).ok(),
        Some((n, Err(e))) => return Err(bad(n, e)),
        None => return Err(bad(1, "empty input: no dump header")),
    };
    match header
        .as_ref()
        .and_then(|h| h.get("enginedb-dump"))
        .and_then(Json::as_u64)
    {
        Some(VERSION) => {}
        Some(other) => {
            return Err(bad(
                1,
                format!("dump format {other} is not supported (this build reads {VERSION})"),
            ));
        }
        None => return Err(bad(1, "not an enginedb dump header")),
    }
    for (count, (n, line)) in (0u64..).zip(lines) {
        let text = line.map_err(|e| bad(n, e))?;
        let json: Json = serde_json::from_str(&text).map_err(|e| bad(n, format!("not JSON: {e}")))?;
        if let Some(end) = json.get("end") {
            if end.as_u64() != Some(count) {
                return Err(bad(
                    n,
                    format!("the trailer counts {end} entries, the dump holds {count}"),
                ));
            }
            return Ok(count);
        }
        let (Some(k), Some(v)) = (json.get("k"), json.get("v")) else {
            return Err(bad(n, "an entry needs \"k\" and \"v\""));
        };
        let key = syntax::key_from_json(k).map_err(|e| bad(n, e))?;
        let value = syntax::value_from_json(v).map_err(|e| bad(n, e))?;
        // Every store can hold it (the limits of `enginedb::limits`): a dump is refused whole,
        // naming the line, before anything of it is written.
        let op = Write::set(key, value);
        op.validate().map_err(|e| bad(n, e))?;
        let Write::Set { key, value } = op else {
            return Err(bad(n, "an entry is a set"));
        };
        entry(key, value).map_err(|e| bad(n, e))?;
    }
    Err(Error::invalid("the dump is truncated: it has no trailer"))
}

/// Writes `entries` into `db` in units of at most 500; returns the last unit's mode.
pub(crate) async fn write_all(
    db: &Db,
    entries: Vec<(Key, Value)>,
    progress: &indicatif::ProgressBar,
) -> Result<Option<enginedb::Mode>> {
    let mut mode = None;
    for chunk in entries.chunks(UNIT) {
        let unit: Vec<Write> = chunk.iter().map(|(k, v)| Write::set(k.clone(), v.clone())).collect();
        mode = Some(db.write(&unit, Atomicity::BestEffort).await?.mode);
        progress.inc(chunk.len() as u64);
    }
    Ok(mode)
}

#[cfg(test)]
mod tests {
    use enginedb::{ErrorKind, key};

    use super::*;

    fn read_all(text: &str) -> Result<Vec<(Key, Value)>> {
        let mut entries = Vec::new();
        read(text.as_bytes(), |k, v| {
            entries.push((k, v));
            Ok(())
        })?;
        Ok(entries)
    }

    #[test]
    fn reads_good_dumps_and_names_the_bad_line() {
        let good = "{\"enginedb-dump\":1}\n{\"k\":[\"a\",1],\"v\":{\"i64\":\"-5\"}}\n{\"end\":1}\n";
        assert_eq!(read_all(good).unwrap(), vec![(key!["a", 1], Value::I64(-5))]);
        let cases = [
            ("", "no dump header"),
            ("{\"enginedb-dump\":2}\n{\"end\":0}\n", "line 1"),
            ("{\"enginedb-dump\":1}\n{\"k\":[\"a\"]}\n{\"end\":1}\n", "line 2"),
            (
                "{\"enginedb-dump\":1}\n{\"k\":[\"a\"],\"v\":{\"i64\":\"1\"}}\n{\"k\":[1.5],\"v\":{\"i64\":\"1\"}}\n",
                "line 3",
            ),
            (
                "{\"enginedb-dump\":1}\n{\"k\":[\"a\"],\"v\":{\"i64\":\"1\"}}\n",
                "truncated",
            ),
            (
                "{\"enginedb-dump\":1}\n{\"k\":[\"a\"],\"v\":{\"i64\":\"1\"}}\n{\"end\":2}\n",
                "line 3",
            ),
            (
                "{\"enginedb-dump\":1}\n{\"k\":[],\"v\":{\"i64\":\"1\"}}\n{\"end\":1}\n",
                "line 2",
            ),
        ];
        let long_key = format!(
            "{{\"enginedb-dump\":1}}\n{{\"k\":[\"{}\"],\"v\":{{\"i64\":\"1\"}}}}\n{{\"end\":1}}\n",
            "x".repeat(enginedb::limits::MAX_KEY_BYTES)
        );
        let cases = cases.into_iter().chain([(long_key.as_str(), "line 2")]);
        for (text, says) in cases {
            let error = read_all(text).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput);
            assert!(error.to_string().contains(says), "{text:?}: {error}");
        }
    }
}
