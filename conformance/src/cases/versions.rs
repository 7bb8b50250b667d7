//! Versions (DESIGN §3 "Version").

use enginedb::{Mode, Selector, Version, Write};

use crate::{CaseResult, Ctx};

/// Every commit gets a larger version than the one before.
pub async fn increase_across_commits(cx: &Ctx<'_>) -> CaseResult {
    let mut last = Version(0);
    for i in 0..10 {
        let version = cx.db().write_one(Write::set(cx.key(i % 3), i)).await?;
        ensure!(version > last, "commit {i}: version {version} after {last}");
        last = version;
    }
    Ok(())
}

/// Every key written by one atomic unit carries that unit's version (in sequential mode each
/// op is its own commit, so versions increase along the unit instead).
pub async fn one_unit_one_version(cx: &Ctx<'_>) -> CaseResult {
    let commit = cx
        .unit(&[
            Write::set(cx.key("a"), 1),
            Write::sum(cx.key("b"), 2),
            Write::insert(cx.key("c"), "x"),
        ])
        .await?;
    let versions: Vec<Version> = cx
        .db()
        .get_many(&[cx.key("a"), cx.key("b"), cx.key("c")])
        .await?
        .into_iter()
        .map(|e| e.map_or(Version(0), |e| e.version))
        .collect();
    if commit.mode == Mode::Sequential {
        ensure!(
            versions.is_sorted_by(|a, b| a < b),
            "sequential versions increase: {versions:?}"
        );
        ensure_eq!(
            versions.last().copied(),
            Some(commit.version),
            "the commit reports the last op's version"
        );
    } else {
        ensure_eq!(versions, vec![commit.version; 3], "one version for the unit");
    }
    Ok(())
}

/// A key deleted and written again gets a larger version than before (no ABA), also after a
/// range delete.
pub async fn recreated_key_gets_larger_version(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    let first = cx.db().write_one(Write::set(key.clone(), "v")).await?;
    cx.db().write_one(Write::delete(key.clone())).await?;
    let second = cx.db().write_one(Write::set(key.clone(), "v")).await?;
    ensure!(second > first, "recreated: {second} after {first}");
    cx.db()
        .write_one(Write::delete_range(Selector::prefix(cx.root().clone())))
        .await?;
    let third = cx.db().write_one(Write::set(key.clone(), "v")).await?;
    ensure!(third > second, "recreated after a range delete: {third} after {second}");
    Ok(())
}

/// A unit that fails leaves every version as it was.
pub async fn failed_unit_keeps_versions(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    let version = cx.db().write_one(Write::set(key.clone(), "v")).await?;
    let failed = cx
        .unit(&[
            Write::set(key.clone(), "w"),
            Write::check(cx.key("absent"), Some(version)),
        ])
        .await;
    ensure!(failed.is_err(), "the unit's check cannot hold");
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.version),
        Some(version),
        "version unchanged"
    );
    let next = cx.db().write_one(Write::set(key, "x")).await?;
    ensure!(next > version, "next commit {next} after {version}");
    Ok(())
}

/// Once a version is seen, no later commit gets one at or below it; reads return the version
/// of the commit that last wrote the key.
pub async fn commit_version_is_read_back(cx: &Ctx<'_>) -> CaseResult {
    let a = cx
        .unit(&[Write::set(cx.key("a"), 1), Write::set(cx.key("b"), 1)])
        .await?;
    let b = cx.unit(&[Write::set(cx.key("b"), 2)]).await?;
    ensure!(
        b.version > a.version,
        "second unit {} after first {}",
        b.version,
        a.version
    );
    let got = cx.db().get_many(&[cx.key("a"), cx.key("b")]).await?;
    let versions: Vec<Option<Version>> = got.into_iter().map(|e| e.map(|e| e.version)).collect();
    let a_version = if a.mode == Mode::Sequential {
        versions.first().copied().flatten()
    } else {
        Some(a.version)
    };
    ensure_eq!(
        versions,
        vec![a_version, Some(b.version)],
        "each key carries its last unit's version"
    );
    Ok(())
}
