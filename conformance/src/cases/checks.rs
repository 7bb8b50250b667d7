//! `Check` and `CheckRange` preconditions, compare-and-set (DESIGN §3 "Write ops").

use enginedb::{Error, ErrorKind, KeyPart, Selector, Value, Version, Write};

use crate::{CaseResult, Ctx};

/// A `Check` at the key's current version lets the unit commit.
pub async fn matching_version_passes(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    let version = cx.db().write_one(Write::set(key.clone(), 1)).await?;
    cx.unit(&[Write::check(key.clone(), Some(version)), Write::set(key.clone(), 2)])
        .await?;
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.value),
        Some(Value::I64(2)),
        "written after the check"
    );
    Ok(())
}

/// A `Check` at a stale version fails the unit with `CheckFailed`, and no op of it is written.
pub async fn stale_version_fails(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    let stale = cx.db().write_one(Write::set(key.clone(), 1)).await?;
    cx.db().write_one(Write::set(key.clone(), 2)).await?;
    let unit = [
        Write::set(cx.key("other"), 1),
        Write::check(key.clone(), Some(stale)),
        Write::set(key.clone(), 3),
    ];
    ensure_err!(cx.unit(&unit).await, ErrorKind::CheckFailed, "stale check");
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.value),
        Some(Value::I64(2)),
        "key unchanged"
    );
    ensure_eq!(cx.db().get(&cx.key("other")).await?, None, "earlier op not written");
    Ok(())
}

/// `Check { version: None }` means "absent": it holds for an absent key and fails for a
/// present one.
pub async fn absent_check(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    cx.unit(&[Write::check(key.clone(), None), Write::set(key.clone(), 1)])
        .await?;
    let again = cx
        .unit(&[Write::check(key.clone(), None), Write::set(key.clone(), 2)])
        .await;
    ensure_err!(again, ErrorKind::CheckFailed, "absent check on a present key");
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.value),
        Some(Value::I64(1)),
        "unchanged"
    );
    Ok(())
}

/// `CheckFailed` names the index of the op that failed.
pub async fn failure_reports_index(cx: &Ctx<'_>) -> CaseResult {
    let present = cx.key("present");
    let version = cx.db().write_one(Write::set(present.clone(), 1)).await?;
    let unit = [
        Write::check(present.clone(), Some(version)),
        Write::set(cx.key("a"), 1),
        Write::check(cx.key("absent"), None),
        Write::check(present.clone(), Some(Version(version.0 + 1000))),
        Write::set(cx.key("b"), 1),
    ];
    let error = ensure_err!(cx.unit(&unit).await, ErrorKind::CheckFailed, "fourth op is stale");
    ensure!(
        matches!(error, Error::CheckFailed { index: 3, .. }),
        "index 3, got {error:?}"
    );
    Ok(())
}

/// A failed `Check` or `Insert` names the op and its key: `CheckFailed { index, key }`, and
/// the message shows the key — through a unit, the `Atomic` builder and a single write.
pub async fn failure_names_the_key(cx: &Ctx<'_>) -> CaseResult {
    let user = cx.key("users").with(7);
    let taken = cx.key("taken").with(KeyPart::Bytes(vec![0, 0xFF])).with(true);
    let version = cx.db().write_one(Write::set(user.clone(), "ada")).await?;
    cx.db().write_one(Write::set(taken.clone(), 1)).await?;
    let stale = Version(version.0 + 1000);
    let failures = [
        (
            1,
            user.clone(),
            cx.unit(&[
                Write::set(cx.key("a"), 1),
                Write::check(user.clone(), Some(stale)),
                Write::check(taken.clone(), None),
            ])
            .await
            .map(drop),
        ),
        (
            2,
            taken.clone(),
            cx.unit(&[
                Write::check(user.clone(), Some(version)),
                Write::set(cx.key("a"), 1),
                Write::insert(taken.clone(), 2),
                Write::insert(user.clone(), "again"),
            ])
            .await
            .map(drop),
        ),
        (
            1,
            user.clone(),
            cx.db()
                .atomic()
                .set(cx.key("b"), 1)
                .check_absent(user.clone())
                .commit()
                .await
                .map(drop),
        ),
        (
            0,
            taken.clone(),
            cx.db().write_one(Write::insert(taken.clone(), 3)).await.map(drop),
        ),
    ];
    for (index, key, result) in failures {
        let error = ensure_err!(result, ErrorKind::CheckFailed, "op {index} on {key} fails");
        ensure!(
            matches!(&error, Error::CheckFailed { index: i, key: Some(k) } if *i == index && *k == key),
            "CheckFailed {{ index: {index}, key: Some({key}) }}, got {error:?}"
        );
        let message = error.to_string();
        ensure!(message.contains(&key.to_string()), "the message names {key}: {message}");
        ensure!(
            message.ends_with("nothing was written"),
            "the message says nothing was written: {message}"
        );
    }
    ensure_eq!(
        cx.contents().await?,
        vec![(taken, Value::I64(1)), (user, Value::from("ada"))],
        "no failed unit wrote anything"
    );
    Ok(())
}

/// Compare-and-set: a writer holding a stale version loses and must re-read.
pub async fn cas_increment(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("n");
    let v1 = cx.db().write_one(Write::set(key.clone(), 0)).await?;
    cx.unit(&[Write::check(key.clone(), Some(v1)), Write::set(key.clone(), 1)])
        .await?;
    let lost = cx
        .unit(&[Write::check(key.clone(), Some(v1)), Write::set(key.clone(), 1)])
        .await;
    ensure_err!(lost, ErrorKind::CheckFailed, "second CAS with the old version");
    let current = ensure_some!(cx.db().get(&key).await?, "counter exists");
    cx.unit(&[
        Write::check(key.clone(), Some(current.version)),
        Write::set(key.clone(), 2),
    ])
    .await?;
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.value),
        Some(Value::I64(2)),
        "two increments"
    );
    Ok(())
}

/// `CheckRange` holds while the span's count and largest version are unchanged, and fails
/// after an insert, update or delete inside it, but not after a write outside it.
pub async fn check_range_fingerprint(cx: &Ctx<'_>) -> CaseResult {
    let span = Selector::prefix(cx.key("span"));
    let range = span.byte_range()?;
    let items = [0, 1, 2].map(|i| cx.key("span").with(i));
    let commit = cx
        .unit(&items.iter().map(|k| Write::set(k.clone(), 0)).collect::<Vec<_>>())
        .await?;
    let max = cx
        .db()
        .get(&items[2])
        .await?
        .map(|e| e.version)
        .unwrap_or(commit.version);
    let check = |count, max| Write::CheckRange {
        range: range.clone(),
        count,
        max_version: Some(max),
    };
    cx.unit(&[check(3, max), Write::set(cx.key("outside"), 1)]).await?;
    ensure_err!(cx.unit(&[check(2, max)]).await, ErrorKind::CheckFailed, "wrong count");
    cx.db().write_one(Write::set(cx.key("zz_outside"), 1)).await?;
    cx.unit(&[check(3, max)]).await?;
    let updated = cx.db().write_one(Write::set(items[0].clone(), 1)).await?;
    ensure_err!(
        cx.unit(&[check(3, max)]).await,
        ErrorKind::CheckFailed,
        "after an update inside"
    );
    cx.unit(&[check(3, updated)]).await?;
    cx.db().write_one(Write::delete(items[1].clone())).await?;
    ensure_err!(
        cx.unit(&[check(3, updated)]).await,
        ErrorKind::CheckFailed,
        "after a delete inside"
    );
    let empty = Write::CheckRange {
        range: Selector::prefix(cx.key("nothing")).byte_range()?,
        count: 0,
        max_version: None,
    };
    cx.unit(&[empty]).await?;
    Ok(())
}
