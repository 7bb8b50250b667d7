//! Key encoding and order, as seen through the store (DESIGN §3 "Key").

use enginedb::{Key, KeyPart, Selector, Write};

use super::{Rng, listed_keys, write_keys};
use crate::{CaseResult, Ctx};

fn keys_of(cx: &Ctx<'_>, parts: Vec<KeyPart>) -> Vec<Key> {
    parts.into_iter().map(|p| cx.key(p)).collect()
}

async fn expect_listed_in_order(cx: &Ctx<'_>, expected: Vec<Key>) -> CaseResult {
    let mut shuffled = expected.clone();
    shuffled.reverse();
    shuffled.rotate_left(expected.len() / 3);
    write_keys(cx, &shuffled).await?;
    let listed = listed_keys(cx).await?;
    ensure_eq!(listed, expected, "ascending list order");
    let page = cx
        .db()
        .list(Selector::prefix(cx.root().clone()))
        .reverse()
        .page()
        .await?;
    let mut reversed: Vec<Key> = page.entries.into_iter().map(|e| e.key).collect();
    reversed.reverse();
    ensure_eq!(reversed, expected, "descending list order, reversed back");
    Ok(())
}

/// Parts order by type first: Bytes < Str < Int < Bool.
pub async fn order_across_types(cx: &Ctx<'_>) -> CaseResult {
    let expected = keys_of(
        cx,
        vec![
            KeyPart::Bytes(vec![]),
            KeyPart::Bytes(vec![0xFF, 0xFF]),
            KeyPart::Str(String::new()),
            KeyPart::Str("\u{10FFFF}".into()),
            KeyPart::Int(i64::MIN),
            KeyPart::Int(i64::MAX),
            KeyPart::Bool(false),
            KeyPart::Bool(true),
        ],
    );
    expect_listed_in_order(cx, expected).await
}

/// Within a type: byte order, UTF-8 byte order, numeric order, false < true.
pub async fn order_within_types(cx: &Ctx<'_>) -> CaseResult {
    let mut parts: Vec<KeyPart> = [
        &[][..],
        &[0],
        &[0, 0],
        &[0, 1],
        &[0, 0xFF],
        &[1],
        &[0x7F],
        &[0x80],
        &[0xFF],
        &[0xFF, 0],
    ]
    .iter()
    .map(|b| KeyPart::Bytes(b.to_vec()))
    .collect();
    parts.extend(
        [
            "",
            "\0",
            "\0\0",
            "A",
            "a",
            "a\0",
            "aa",
            "b",
            "z",
            "\u{e9}",
            "\u{ffff}",
            "\u{1F600}",
        ]
        .map(KeyPart::from),
    );
    parts.extend(
        [
            i64::MIN,
            i64::MIN + 1,
            -(1 << 53) - 1,
            -256,
            -255,
            -1,
            0,
            1,
            255,
            256,
            (1 << 53) + 1,
            i64::MAX - 1,
            i64::MAX,
        ]
        .map(KeyPart::Int),
    );
    parts.extend([false, true].map(KeyPart::Bool));
    let expected = keys_of(cx, parts);
    expect_listed_in_order(cx, expected).await
}

/// A tuple sorts before all of its extensions, and extensions sort by their next part.
pub async fn prefix_sorts_before_extensions(cx: &Ctx<'_>) -> CaseResult {
    let a = cx.key("a");
    let expected = vec![
        a.clone(),
        a.clone().with(1),
        a.clone().with(1).with("x"),
        a.clone().with(2),
        a.clone().with(true),
        cx.key("a\0"),
        cx.key("ab"),
    ];
    expect_listed_in_order(cx, expected).await
}

/// `Prefix` selects tuple extensions only: a string that merely starts with the same bytes is
/// another key.
pub async fn prefix_is_a_tuple_prefix(cx: &Ctx<'_>) -> CaseResult {
    let a = cx.key("a");
    write_keys(
        cx,
        &[
            a.clone(),
            a.clone().with(1),
            cx.key("a\0"),
            cx.key("a\0b"),
            cx.key("ab"),
        ],
    )
    .await?;
    let page = cx.db().list(Selector::prefix(a.clone())).page().await?;
    let keys: Vec<Key> = page.entries.into_iter().map(|e| e.key).collect();
    ensure_eq!(
        keys,
        vec![a.with(1)],
        "Prefix((root, \"a\")) holds only its tuple extensions"
    );
    Ok(())
}

/// Every part type, with embedded zeros and extremes, comes back identical from get and list.
pub async fn all_part_types_roundtrip(cx: &Ctx<'_>) -> CaseResult {
    let key = cx
        .key(KeyPart::Bytes(vec![0, 0xFF, 0, 1]))
        .with("x\0y\u{e9}")
        .with(i64::MIN)
        .with(i64::MAX)
        .with(-1)
        .with(true)
        .with(false)
        .with(KeyPart::Bytes(vec![]))
        .with("");
    cx.db().write_one(Write::set(key.clone(), "v")).await?;
    let got = cx.db().get(&key).await?;
    ensure_eq!(got.map(|e| e.key), Some(key.clone()), "key from get");
    ensure_eq!(listed_keys(cx).await?, vec![key], "key from list");
    Ok(())
}

/// 300 generated keys of mixed shapes list in tuple order (the order `Key`'s `Ord` defines).
pub async fn generated_keys_list_sorted(cx: &Ctx<'_>) -> CaseResult {
    let mut rng = Rng::new(0x5EED_0001);
    let mut keys = std::collections::BTreeSet::new();
    while keys.len() < 300 {
        let mut key = cx.root().clone();
        for _ in 0..=rng.below(3) {
            let part = match rng.below(4) {
                0 => KeyPart::Bytes((0..rng.below(4)).map(|_| rng.pick(0u8, &[1, 0x7F, 0xFF])).collect()),
                1 => KeyPart::Str(
                    (0..rng.below(4))
                        .map(|_| rng.pick('\0', &['a', 'b', '\u{e9}']))
                        .collect(),
                ),
                2 => {
                    let random = rng.next() as i64;
                    KeyPart::Int(rng.pick(i64::MIN, &[-1, 0, 1, i64::MAX, random]))
                }
                _ => KeyPart::Bool(rng.below(2) == 1),
            };
            key = key.with(part);
        }
        keys.insert(key);
    }
    let expected: Vec<Key> = keys.into_iter().collect();
    let mut shuffled = expected.clone();
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i as u64 + 1) as usize);
    }
    write_keys(cx, &shuffled).await?;
    let mut expected_listed = expected.clone();
    expected_listed.retain(|k| k != cx.root());
    ensure_eq!(listed_keys(cx).await?, expected_listed, "generated keys in tuple order");
    Ok(())
}
