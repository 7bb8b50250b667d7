//! Limits and bad input: accepted at the limit, refused one over it, nothing written
//! (DESIGN §3 "Limits", §4 "Every mode validates").

use enginedb::limits::{MAX_GET_MANY, MAX_KEY_BYTES, MAX_OPS_PER_UNIT, MAX_UNIT_BYTES, MAX_VALUE_BYTES};
use enginedb::port::unit_size;
use enginedb::{Atomicity, ErrorKind, Key, KeyPart, Selector, Value, Write};

use crate::{CaseResult, Ctx};

/// A key under the case's root whose encoding is exactly `len` bytes.
fn key_of_len(cx: &Ctx<'_>, name: &str, len: usize) -> Key {
    let base = cx.key(name);
    let filler = len.saturating_sub(base.encoded_len() + 2);
    base.with(KeyPart::Bytes(vec![b'x'; filler]))
}

/// A key of exactly the limit is stored and read; one byte over is refused for writes and
/// reads, also when escaping (not raw length) makes it long.
pub async fn key_length_edge(cx: &Ctx<'_>) -> CaseResult {
    let at = key_of_len(cx, "at", MAX_KEY_BYTES);
    let over = key_of_len(cx, "over", MAX_KEY_BYTES + 1);
    ensure_eq!(
        (at.encoded_len(), over.encoded_len()),
        (MAX_KEY_BYTES, MAX_KEY_BYTES + 1),
        "test keys"
    );
    cx.db().write_one(Write::set(at.clone(), "v")).await?;
    ensure!(cx.db().get(&at).await?.is_some(), "key at the limit stored");
    ensure_err!(
        cx.db().write_one(Write::set(over.clone(), "v")).await,
        ErrorKind::LimitExceeded,
        "key over the limit"
    );
    ensure_err!(
        cx.db().get(&over).await,
        ErrorKind::LimitExceeded,
        "reading a key over the limit"
    );
    let zeros = cx.key("zeros").with(KeyPart::Bytes(vec![0; MAX_KEY_BYTES / 2 + 10]));
    ensure_err!(
        cx.db().write_one(Write::set(zeros, "v")).await,
        ErrorKind::LimitExceeded,
        "escaped key over the limit"
    );
    ensure_eq!(cx.contents().await?.len(), 1, "only the key at the limit");
    Ok(())
}

/// A value of exactly the limit is stored; one byte over is refused with nothing written.
pub async fn value_size_edge(cx: &Ctx<'_>) -> CaseResult {
    let at = vec![0xA5; MAX_VALUE_BYTES];
    cx.db().write_one(Write::set(cx.key("at"), at.clone())).await?;
    ensure_eq!(
        cx.db().get(&cx.key("at")).await?.map(|e| e.value),
        Some(Value::Bytes(at)),
        "value at the limit"
    );
    let unit = [
        Write::set(cx.key("small"), 1),
        Write::set(cx.key("over"), vec![0; MAX_VALUE_BYTES + 1]),
    ];
    ensure_err!(cx.unit(&unit).await, ErrorKind::LimitExceeded, "value over the limit");
    ensure_err!(
        cx.db()
            .write_one(Write::insert(cx.key("over"), vec![0; MAX_VALUE_BYTES + 1]))
            .await,
        ErrorKind::LimitExceeded,
        "insert over the limit"
    );
    ensure_eq!(cx.contents().await?.len(), 1, "only the value at the limit");
    Ok(())
}

/// A unit of exactly the op limit commits; one op more is refused with nothing written.
pub async fn ops_per_unit_edge(cx: &Ctx<'_>) -> CaseResult {
    let ops =
        |n: usize, name: &str| -> Vec<Write> { (0..n).map(|i| Write::set(cx.key(name).with(i as i64), 1)).collect() };
    cx.unit(&ops(MAX_OPS_PER_UNIT, "at")).await?;
    ensure_err!(
        cx.unit(&ops(MAX_OPS_PER_UNIT + 1, "over")).await,
        ErrorKind::LimitExceeded,
        "ops over the limit"
    );
    let listed = cx.contents().await?;
    ensure_eq!(listed.len(), MAX_OPS_PER_UNIT, "only the unit at the limit");
    Ok(())
}

/// A unit of exactly the byte limit commits; one byte more is refused with nothing written.
pub async fn unit_bytes_edge(cx: &Ctx<'_>) -> CaseResult {
    let build = |name: &str, extra: usize| -> Vec<Write> {
        let keys: Vec<Key> = (0..17).map(|i| cx.key(name).with(i)).collect();
        let key_bytes: usize = keys.iter().map(Key::encoded_len).sum();
        let values = MAX_UNIT_BYTES - key_bytes + extra;
        let each = values / keys.len();
        let last = values - each * (keys.len() - 1);
        let count = keys.len();
        keys.into_iter()
            .enumerate()
            .map(|(i, k)| Write::set(k, vec![7u8; if i + 1 == count { last } else { each }]))
            .collect()
    };
    let at = build("at", 0);
    ensure_eq!(unit_size(&at), MAX_UNIT_BYTES, "test unit size");
    cx.unit(&at).await?;
    let over = build("over", 1);
    ensure_err!(
        cx.unit(&over).await,
        ErrorKind::LimitExceeded,
        "unit over the byte limit"
    );
    ensure_eq!(cx.contents().await?.len(), 17, "only the unit at the limit");
    Ok(())
}

/// The empty key is invalid for reads and writes; a unit holding it writes nothing.
pub async fn empty_key_rejected(cx: &Ctx<'_>) -> CaseResult {
    let empty = Key::default();
    ensure_err!(
        cx.db().write_one(Write::set(empty.clone(), 1)).await,
        ErrorKind::InvalidInput,
        "set at the empty key"
    );
    ensure_err!(
        cx.db().get(&empty).await,
        ErrorKind::InvalidInput,
        "get of the empty key"
    );
    let unit = [Write::set(cx.key("a"), 1), Write::sum(empty, 1)];
    ensure_err!(cx.unit(&unit).await, ErrorKind::InvalidInput, "unit with the empty key");
    ensure!(cx.contents().await?.is_empty(), "nothing written");
    Ok(())
}

/// Sends `unit` through every entry point that writes: the resolver with either atomicity, the
/// `Atomic` builder, each op by itself, and (where units are atomic) a transaction's buffered
/// writes. Each must refuse it with `kind` before anything reaches the store.
async fn refused_everywhere(cx: &Ctx<'_>, unit: &[Write], kind: ErrorKind) -> CaseResult {
    ensure_err!(cx.unit(unit).await, kind, "through Db::write");
    let required = cx.db().write(unit, Atomicity::Require).await;
    if cx.mode().is_atomic() {
        ensure_err!(required, kind, "through Db::write, atomicity required");
    } else {
        // Refused either way; which refusal comes first is the resolver's choice.
        let error = ensure_some!(required.err(), "through Db::write, atomicity required");
        ensure!(
            [kind, ErrorKind::Unsupported].contains(&error.kind()),
            "through Db::write, atomicity required: expected {kind:?}, got {error}"
        );
    }
    ensure_err!(
        cx.db().atomic().ops(unit.iter().cloned()).commit().await,
        kind,
        "through the Atomic builder"
    );
    if let Some(bad) = unit.last() {
        ensure_err!(cx.db().write_one(bad.clone()).await, kind, "the bad op by itself");
    }
    if cx.mode().is_atomic() {
        let applied = cx
            .db()
            .transact(async |tx| {
                for op in unit {
                    tx.write(op.clone());
                }
                Ok::<_, enginedb::Error>(())
            })
            .await;
        ensure_err!(applied, kind, "inside a transaction");
    }
    Ok(())
}

/// One bad op anywhere in a unit refuses the whole unit before any write, in every mode and
/// through every entry point.
pub async fn bad_op_in_unit_writes_nothing(cx: &Ctx<'_>) -> CaseResult {
    let too_long = key_of_len(cx, "long", MAX_KEY_BYTES + 1);
    for bad in [Write::delete(too_long.clone()), Write::check(too_long, None)] {
        let unit = [Write::set(cx.key("a"), 1), Write::sum(cx.key("b"), 1), bad];
        refused_everywhere(cx, &unit, ErrorKind::LimitExceeded).await?;
    }
    ensure!(cx.contents().await?.is_empty(), "nothing written");
    Ok(())
}

/// `get_many` of exactly the limit answers; one key more is refused.
pub async fn get_many_edge(cx: &Ctx<'_>) -> CaseResult {
    let keys: Vec<Key> = (0..=MAX_GET_MANY as i64).map(|i| cx.key(i)).collect();
    let (at, _) = keys.split_at(MAX_GET_MANY);
    ensure_eq!(cx.db().get_many(at).await?.len(), MAX_GET_MANY, "answers at the limit");
    ensure_err!(cx.db().get_many(&keys).await, ErrorKind::LimitExceeded, "one key over");
    Ok(())
}

/// A `DeleteRange` with an inverted range is invalid input; its unit writes nothing.
pub async fn bad_delete_range_rejected(cx: &Ctx<'_>) -> CaseResult {
    let inverted = Selector::Range {
        start: cx.key(9),
        end: cx.key(1),
    };
    let unit = [Write::set(cx.key("a"), 1), Write::delete_range(inverted)];
    refused_everywhere(cx, &unit, ErrorKind::InvalidInput).await?;
    ensure!(cx.contents().await?.is_empty(), "nothing written");
    Ok(())
}
