//! Single-key reads and writes (DESIGN §3 "Write ops", "Reads").

use enginedb::{ErrorKind, Value, Write};

use super::bytes;
use crate::{CaseResult, Ctx};

/// `get` of a key never written is `None`.
pub async fn get_missing(cx: &Ctx<'_>) -> CaseResult {
    ensure_eq!(cx.db().get(&cx.key("nothing")).await?, None, "missing key");
    Ok(())
}

/// `Set` then `get` returns the value and a non-zero version.
pub async fn set_then_get(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    cx.db().write_one(Write::set(key.clone(), "hello")).await?;
    let entry = ensure_some!(cx.db().get(&key).await?, "the key was just set");
    ensure_eq!(entry.key, key, "key");
    ensure_eq!(entry.value, bytes("hello"), "value");
    ensure!(
        entry.version.0 > 0,
        "a committed version is positive, got {}",
        entry.version
    );
    Ok(())
}

/// A second `Set` replaces the value.
pub async fn set_overwrites(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    cx.db().write_one(Write::set(key.clone(), "one")).await?;
    cx.db().write_one(Write::set(key.clone(), 2)).await?;
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.value),
        Some(Value::I64(2)),
        "value after overwrite"
    );
    Ok(())
}

/// `Delete` removes the key from get and list.
pub async fn delete_removes(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    cx.db().write_one(Write::set(key.clone(), "v")).await?;
    cx.db().write_one(Write::delete(key.clone())).await?;
    ensure_eq!(cx.db().get(&key).await?, None, "deleted key");
    ensure!(cx.contents().await?.is_empty(), "list after delete");
    Ok(())
}

/// Deleting an absent key succeeds and writes nothing.
pub async fn delete_absent_is_ok(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write_one(Write::delete(cx.key("absent"))).await?;
    cx.unit(&[Write::delete(cx.key("absent")), Write::set(cx.key("other"), "v")])
        .await?;
    ensure_eq!(cx.contents().await?.len(), 1, "only the set key exists");
    Ok(())
}

/// `Insert` on an absent key writes it.
pub async fn insert_absent_writes(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    cx.db().write_one(Write::insert(key.clone(), "first")).await?;
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.value),
        Some(bytes("first")),
        "inserted value"
    );
    Ok(())
}

/// `Insert` on an existing key fails with `CheckFailed` and changes nothing.
pub async fn insert_existing_fails(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    let version = cx.db().write_one(Write::set(key.clone(), "first")).await?;
    ensure_err!(
        cx.db().write_one(Write::insert(key.clone(), "second")).await,
        ErrorKind::CheckFailed,
        "insert over a key"
    );
    let entry = cx.db().get(&key).await?;
    ensure_eq!(
        entry.map(|e| (e.value, e.version)),
        Some((bytes("first"), version)),
        "unchanged"
    );
    Ok(())
}

/// `get_many` answers in argument order, repeats duplicates and reports missing keys.
pub async fn get_many_in_argument_order(cx: &Ctx<'_>) -> CaseResult {
    let (a, b, c) = (cx.key("a"), cx.key("b"), cx.key("c"));
    cx.unit(&[Write::set(a.clone(), "A"), Write::set(c.clone(), 3)]).await?;
    let got = cx.db().get_many(&[c.clone(), b.clone(), a.clone(), c.clone()]).await?;
    let values: Vec<Option<Value>> = got.into_iter().map(|e| e.map(|e| e.value)).collect();
    ensure_eq!(
        values,
        vec![Some(Value::I64(3)), None, Some(bytes("A")), Some(Value::I64(3))],
        "get_many"
    );
    ensure_eq!(cx.db().get_many(&[]).await?.len(), 0, "get_many of nothing");
    Ok(())
}

/// Byte values come back bit-exact: empty, every byte value, a large value.
pub async fn bytes_values_roundtrip(cx: &Ctx<'_>) -> CaseResult {
    let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let large: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let cases = [("empty", vec![]), ("all", all), ("large", large)];
    for (name, value) in &cases {
        cx.db().write_one(Write::set(cx.key(*name), value.clone())).await?;
    }
    for (name, value) in cases {
        let got = cx.db().get(&cx.key(name)).await?.map(|e| e.value);
        ensure_eq!(got, Some(Value::Bytes(value)), "value {name}");
    }
    Ok(())
}

/// A counter and 8 bytes that look like one stay distinct types.
pub async fn counter_and_bytes_are_distinct(cx: &Ctx<'_>) -> CaseResult {
    cx.unit(&[
        Write::set(cx.key("n"), 7),
        Write::set(cx.key("b"), 7i64.to_be_bytes().to_vec()),
    ])
    .await?;
    ensure_eq!(
        cx.db().get(&cx.key("n")).await?.map(|e| e.value),
        Some(Value::I64(7)),
        "counter"
    );
    ensure_eq!(
        cx.db().get(&cx.key("b")).await?.map(|e| e.value),
        Some(Value::Bytes(7i64.to_be_bytes().to_vec())),
        "bytes"
    );
    Ok(())
}

/// The version `write` returns is the one a later read reports.
pub async fn write_returns_entry_version(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    let version = cx.db().write_one(Write::set(key.clone(), "v")).await?;
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.version),
        Some(version),
        "version read back"
    );
    Ok(())
}
