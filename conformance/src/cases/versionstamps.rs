//! Versionstamped keys (DESIGN §11): written at `prefix + (commit version, n)`.

use enginedb::{Entry, Error, Key, Mode, Selector, Value, Version, Write};

use crate::{CaseResult, Ctx, yield_a_while};

/// Every entry under `prefix`, ascending.
async fn stamped(cx: &Ctx<'_>, prefix: &Key) -> Result<Vec<Entry>, Error> {
    cx.db().list(Selector::prefix(prefix.clone())).collect().await
}

/// Two units' stamped keys list in commit order, each at `prefix + (its version, n)` with `n`
/// counting the unit's stamped writes; in sequential mode each write is a commit of its own.
pub async fn keys_list_in_commit_order(cx: &Ctx<'_>) -> CaseResult {
    let prefix = cx.key("events");
    let mut commits = Vec::new();
    for unit in [["a", "b"], ["c", "d"]] {
        let commit = cx
            .unit(&[
                Write::set_versionstamped(prefix.clone(), unit[0]),
                Write::set(cx.key("plain"), unit[0]),
                Write::set_versionstamped(prefix.clone(), unit[1]),
            ])
            .await?;
        commits.push(commit);
    }
    let entries = stamped(cx, &prefix).await?;
    let values: Vec<Value> = entries.iter().map(|e| e.value.clone()).collect();
    ensure_eq!(
        values,
        vec![Value::from("a"), "b".into(), "c".into(), "d".into()],
        "commit order"
    );
    for entry in &entries {
        let version = entry.key.versionstamp().map(|(version, _)| version);
        ensure_eq!(
            version,
            Some(entry.version),
            "the stamp is the version that wrote {}",
            entry.key
        );
        ensure!(entry.key.starts_with(&prefix), "{} is under the prefix", entry.key);
    }
    if cx.mode() == Mode::Sequential {
        let stamps: Vec<(Version, u32)> = entries.iter().filter_map(|e| e.key.versionstamp()).collect();
        ensure!(stamps.iter().all(|&(_, n)| n == 0), "one write per commit: {stamps:?}");
    } else {
        let mut expected = Vec::new();
        for commit in &commits {
            for n in 0..2 {
                expected.push(Key::versionstamped(&prefix, commit.version, n)?);
            }
        }
        let keys: Vec<Key> = entries.into_iter().map(|e| e.key).collect();
        ensure_eq!(keys, expected, "prefix + (commit version, n)");
    }
    Ok(())
}

/// A unit that fails writes no stamped key.
pub async fn failed_unit_leaves_none(cx: &Ctx<'_>) -> CaseResult {
    let prefix = cx.key("events");
    let failed = cx
        .unit(&[
            Write::set_versionstamped(prefix.clone(), "lost"),
            Write::check(cx.key("absent"), Some(Version(1))),
        ])
        .await;
    ensure!(failed.is_err(), "the check cannot hold");
    ensure!(stamped(cx, &prefix).await?.is_empty(), "nothing under the prefix");
    Ok(())
}

/// A transaction's stamped writes take its commit's version; its own reads do not see them.
pub async fn transaction_stamps_at_commit(cx: &Ctx<'_>) -> CaseResult {
    let prefix = cx.key("events");
    let done = cx
        .db()
        .transaction()
        .run(async |tx| {
            tx.set_versionstamped(prefix.clone(), "first");
            tx.set(cx.key("plain"), 1);
            tx.set_versionstamped(prefix.clone(), "second");
            let seen = tx.list(Selector::prefix(prefix.clone())).collect().await?;
            Ok::<_, Error>(seen.len())
        })
        .await?;
    ensure_eq!(done.value, 0, "the transaction does not read its stamped writes");
    let version = done.commit.version;
    let entries = stamped(cx, &prefix).await?;
    let found: Vec<(Key, Value, Version)> = entries.into_iter().map(|e| (e.key, e.value, e.version)).collect();
    ensure_eq!(
        found,
        vec![
            (Key::versionstamped(&prefix, version, 0)?, "first".into(), version),
            (Key::versionstamped(&prefix, version, 1)?, "second".into(), version),
        ],
        "stamped at the commit's version"
    );
    ensure_eq!(
        cx.db().get(&cx.key("plain")).await?.map(|e| e.version),
        Some(version),
        "one version"
    );
    Ok(())
}

/// A write's error names its index among the transaction's writes, versionstamped writes
/// (which are sent last) counted where they were made.
pub async fn transaction_errors_count_stamped_writes(cx: &Ctx<'_>) -> CaseResult {
    let taken = cx.key("taken");
    cx.db().set(taken.clone(), 1).await?;
    let failed = cx
        .db()
        .transact(async |tx| {
            tx.insert(taken.clone(), 2);
            tx.set_versionstamped(cx.key("events"), "after");
            tx.get(&taken).await?;
            Ok::<_, Error>(())
        })
        .await;
    match failed {
        Err(Error::CheckFailed { index, key }) => {
            ensure_eq!((index, key), (0, Some(taken)), "the insert is write 0");
        }
        other => ensure!(false, "the insert must fail its check: {other:?}"),
    }
    Ok(())
}

/// A tail that has read up to a stamp never later finds a key at or below it: 8 committers
/// stamp 10 keys each while a reader lists from just past the last key it saw; at the end a
/// full list holds exactly what the tail saw, in the same order.
pub async fn tail_never_finds_an_earlier_key(cx: &Ctx<'_>) -> CaseResult {
    let prefix = cx.key("events");
    let done = std::cell::Cell::new(0);
    let writer = |id: i64| {
        let (prefix, done) = (prefix.clone(), &done);
        async move {
            let mut result = Ok(());
            for i in 0..10 {
                result = cx
                    .unit(&[Write::set_versionstamped(prefix.clone(), id * 100 + i)])
                    .await
                    .map(drop);
                if result.is_err() {
                    break;
                }
                yield_a_while(1).await;
            }
            done.set(done.get() + 1);
            result
        }
    };
    let tail = async {
        let mut seen: Vec<Key> = Vec::new();
        loop {
            let finished = done.get() == 8;
            let mut selector = Selector::prefix(prefix.clone());
            if let Some((version, n)) = seen.last().and_then(Key::versionstamp) {
                selector = selector.start(Key::versionstamped(&prefix, version, n + 1)?);
            }
            let page = cx.db().list(selector).collect().await?;
            seen.extend(page.into_iter().map(|e| e.key));
            if finished {
                return Ok::<_, Error>(seen);
            }
            yield_a_while(1).await;
        }
    };
    let (writers, seen) = futures::join!(futures::future::join_all((0..8).map(writer)), tail);
    for result in writers {
        result?;
    }
    let seen = seen?;
    let all: Vec<Key> = stamped(cx, &prefix).await?.into_iter().map(|e| e.key).collect();
    ensure_eq!(all.len(), 80, "every stamped write is there");
    ensure_eq!(seen, all, "the tail saw every key, in order, none appearing behind it");
    Ok(())
}

/// After `advance_version(past)` every commit, and every key it stamps, is past `past` (what a
/// restored dump needs); advancing to an earlier version changes nothing, and one above
/// `i64::MAX` is refused.
pub async fn advanced_versions_stamp_past_it(cx: &Ctx<'_>) -> CaseResult {
    let before = cx.db().set(cx.key("before"), 1).await?;
    let past = Version(before.0 + 1_000);
    cx.db().advance_version(past).await?;
    let prefix = cx.key("events");
    let commit = cx.unit(&[Write::set_versionstamped(prefix.clone(), "after")]).await?;
    ensure!(commit.version > past, "{} is past {past}", commit.version);
    let entries = stamped(cx, &prefix).await?;
    let stamp = entries.first().and_then(|e| e.key.versionstamp());
    ensure!(
        stamp.is_some_and(|(v, _)| v > past),
        "the stamp {stamp:?} is past {past}"
    );
    cx.db().advance_version(Version(1)).await?;
    cx.db().advance_version(Version::ZERO).await?;
    let later = cx.db().set(cx.key("later"), 1).await?;
    ensure!(
        later > commit.version,
        "advancing backwards moved nothing: {later} after {}",
        commit.version
    );
    for beyond in [Version(Version::MAX_ADVANCE.0 + 1), Version(u64::MAX)] {
        ensure_err!(
            cx.db().advance_version(beyond).await,
            enginedb::ErrorKind::InvalidInput,
            "a version that leaves the store too few"
        );
    }
    let still = cx.db().set(cx.key("still"), 1).await?;
    ensure!(
        still > later,
        "versions go on after a refused advance: {still} after {later}"
    );
    Ok(())
}
