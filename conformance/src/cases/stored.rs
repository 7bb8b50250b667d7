//! Stored bytes no enginedb writes — rows the harness writes past the core
//! ([`crate::Harness::tamper`]) — read as `Corrupt`: never skipped, never returned as data
//! (DESIGN §3 "malformed bytes are an error, never a panic").
//!
//! Keys are stored as the format byte then the tuple encoding. A list of the whole key space
//! (the empty prefix, alone or narrowed by bounds) reads every row of the namespace whatever
//! its first byte, so `enginedb export`, which lists everything, never writes a dump that
//! silently lacks a row. Each bad row goes into a store of its own, beside two good entries.

use enginedb::testing::RawRow;
use enginedb::{Db, ErrorKind, Key, Selector};

use super::bytes;
use crate::{CaseResult, Ctx};

/// Key bytes whose first byte is not the format byte (`0x01`): below it, and above it (a
/// future format, garbage).
const FOREIGN: &[&[u8]] = &[&[], &[0x00], &[0x00, 0xFF], &[0x02], &[0xFF, 1, 2]];

/// Key bytes that start with the format byte but decode to no key: the empty tuple (no key is
/// empty), a part tag no part has (`0xFF` sorts after every key, `0x09` among them).
const BAD_TAILS: &[&[u8]] = &[&[0x01], &[0x01, 0xFF], &[0x01, 0x09]];

/// The whole key space.
fn whole() -> Selector {
    Selector::prefix(Key::default())
}

/// The store for the `n`th bad row of a case (the case's own first, then fresh ones), holding
/// two good entries under the case's root.
async fn store(cx: &Ctx<'_>, n: usize) -> enginedb::Result<Db> {
    let db = match n {
        0 => cx.db().clone(),
        _ => cx.harness().open().await?,
    };
    db.set(cx.key("a"), 1).await?;
    db.set(cx.key("z"), 2).await?;
    Ok(db)
}

/// Writes one row at `key` (a valid version, bytes) past the core into the `n`th store.
async fn tampered(cx: &Ctx<'_>, n: usize, key: &[u8]) -> enginedb::Result<Db> {
    let db = store(cx, n).await?;
    cx.harness().tamper(db, &[RawRow::new(key, bytes("tampered"), 1)]).await
}

/// Every list of the whole key space that covers `key` fails with `Corrupt`, in both
/// directions and page by page; one that is bounded away from it does not.
async fn whole_space_lists_are_corrupt(cx: &Ctx<'_>, db: &Db, key: &[u8]) -> CaseResult {
    let what = format!("row at key bytes {key:02x?}");
    ensure_err!(
        db.list(whole()).collect().await,
        ErrorKind::Corrupt,
        "whole list, {what}"
    );
    ensure_err!(
        db.list(whole()).reverse().collect().await,
        ErrorKind::Corrupt,
        "whole reverse list, {what}"
    );
    ensure_err!(
        db.list(whole()).limit(1).collect().await,
        ErrorKind::Corrupt,
        "whole list a page of one at a time, {what}"
    );
    ensure_err!(
        db.list(whole()).limit(1).reverse().collect().await,
        ErrorKind::Corrupt,
        "whole reverse list a page of one at a time, {what}"
    );
    // The root's encoding splits the whole space: the half holding the row is corrupt, the
    // other lists what it holds.
    let root = cx.root().clone();
    let (holding, other) = if key < root.encode().as_slice() {
        (whole().end(root.clone()), whole().start(root))
    } else {
        (whole().start(root.clone()), whole().end(root))
    };
    ensure_err!(
        db.list(holding.clone()).collect().await,
        ErrorKind::Corrupt,
        "{holding}, {what}"
    );
    ensure!(
        db.list(other.clone()).collect().await.is_ok(),
        "{other} does not hold the {what}"
    );
    Ok(())
}

/// A row whose key bytes start with anything but the format byte (or are empty) is `Corrupt`
/// for a list of the whole key space, never skipped; a list of a prefix, which it lies
/// outside, still lists its entries.
pub async fn foreign_first_byte_is_corrupt(cx: &Ctx<'_>) -> CaseResult {
    for (n, key) in FOREIGN.iter().enumerate() {
        let db = tampered(cx, n, key).await?;
        whole_space_lists_are_corrupt(cx, &db, key).await?;
        let listed = db.list(Selector::prefix(cx.root().clone())).collect().await?;
        ensure_eq!(listed.len(), 2, "the root's entries beside the row at {key:02x?}");
    }
    Ok(())
}

/// A row whose key bytes start with the format byte but decode to no key is `Corrupt` for a
/// list of the whole key space, and for a list of a prefix it extends.
pub async fn undecodable_tail_is_corrupt(cx: &Ctx<'_>) -> CaseResult {
    let mut keys: Vec<Vec<u8>> = BAD_TAILS.iter().map(|k| k.to_vec()).collect();
    // Under the root: an unterminated string part, a truncated integer part.
    for tail in [&[0x02, b'x'][..], &[0x03, 0x80]] {
        let mut key = cx.root().encode();
        key.extend_from_slice(tail);
        keys.push(key);
    }
    let root = Selector::prefix(cx.root().clone());
    let under_root = |key: &[u8]| root.byte_range().is_ok_and(|span| span.contains(key));
    for (n, key) in keys.iter().enumerate() {
        let db = tampered(cx, n, key).await?;
        whole_space_lists_are_corrupt(cx, &db, key).await?;
        let listed = db.list(root.clone()).collect().await;
        if under_root(key) {
            ensure_err!(listed, ErrorKind::Corrupt, "the root's list holding {key:02x?}");
            ensure_err!(
                db.list(root.clone()).reverse().collect().await,
                ErrorKind::Corrupt,
                "the root's reverse list holding {key:02x?}"
            );
        } else {
            ensure_eq!(listed?.len(), 2, "the root's entries beside the row at {key:02x?}");
        }
    }
    Ok(())
}

/// Inside `transact` too, a list of the whole key space meets a row of foreign or
/// undecodable key bytes as `Corrupt`.
pub async fn bad_keys_are_corrupt_in_a_transaction(cx: &Ctx<'_>) -> CaseResult {
    let keys: [&[u8]; 4] = [&[0x00], &[0xFF, 1, 2], &[0x01], &[0x01, 0xFF]];
    for (n, key) in keys.into_iter().enumerate() {
        let db = tampered(cx, n, key).await?;
        for reverse in [false, true] {
            let listed = db
                .transact(async |tx| {
                    let list = tx.list(whole());
                    let list = if reverse { list.reverse() } else { list };
                    list.collect().await
                })
                .await;
            ensure_err!(
                listed,
                ErrorKind::Corrupt,
                "whole list (reverse: {reverse}) in a transaction, row at {key:02x?}"
            );
        }
    }
    Ok(())
}

/// A row stored with a version no commit has (0; and -1 where the store keeps versions
/// signed) is `Corrupt` for `get`, `get_many` and lists, outside a transaction; the other
/// entries still read. (Inside a transaction PostgreSQL reads a stored 0 as the transaction's
/// own pending write, its placeholder, so that is not checked there.)
pub async fn impossible_version_is_corrupt(cx: &Ctx<'_>) -> CaseResult {
    let bad = cx.key("bad");
    for (n, version) in [0, -1].into_iter().enumerate() {
        let db = store(cx, n).await?;
        let row = RawRow::new(bad.encode(), bytes("tampered"), version);
        let db = match cx.harness().tamper(db, &[row]).await {
            // MemoryDb and redb keep versions unsigned: they cannot hold a negative one.
            Err(error) if version < 0 && error.kind() == ErrorKind::Unsupported => return Ok(()),
            tampered => tampered?,
        };
        ensure_err!(db.get(&bad).await, ErrorKind::Corrupt, "get at version {version}");
        ensure_err!(
            db.get_many(&[cx.key("a"), bad.clone()]).await,
            ErrorKind::Corrupt,
            "get_many at version {version}"
        );
        for selector in [Selector::prefix(cx.root().clone()), whole()] {
            ensure_err!(
                db.list(selector.clone()).collect().await,
                ErrorKind::Corrupt,
                "{selector} at version {version}"
            );
            ensure_err!(
                db.list(selector.clone()).reverse().collect().await,
                ErrorKind::Corrupt,
                "{selector} reversed at version {version}"
            );
        }
        ensure!(
            db.get(&cx.key("a")).await?.is_some(),
            "a good entry beside version {version}"
        );
    }
    Ok(())
}
