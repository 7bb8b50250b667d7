//! Reopening a persistent store (DESIGN §7 "reopen persistence").

use enginedb::{Atomicity, Value, Write};

use crate::{CaseResult, Ctx, contents};

/// Committed data, values and versions, survive closing and reopening the store.
pub async fn reopen_keeps_data(cx: &Ctx<'_>) -> CaseResult {
    let db = cx.harness().open().await?;
    let ops = [
        Write::set(cx.key("a"), "x"),
        Write::set(cx.key("n"), i64::MIN),
        Write::set(cx.key("b"), vec![0u8, 255]),
    ];
    db.write(&ops, Atomicity::BestEffort).await?;
    let before = contents(&db, cx.root()).await?;
    let versions = db.get(&cx.key("a")).await?.map(|e| e.version);
    let db = cx.harness().reopen(db).await?;
    ensure_eq!(contents(&db, cx.root()).await?, before, "contents after reopen");
    ensure_eq!(
        db.get(&cx.key("a")).await?.map(|e| e.version),
        versions,
        "version after reopen"
    );
    ensure_eq!(
        db.get(&cx.key("n")).await?.map(|e| e.value),
        Some(Value::I64(i64::MIN)),
        "counter after reopen"
    );
    Ok(())
}

/// Versions keep increasing across a reopen.
pub async fn reopen_versions_keep_increasing(cx: &Ctx<'_>) -> CaseResult {
    let db = cx.harness().open().await?;
    let before = db.write_one(Write::set(cx.key("a"), 1)).await?;
    let db = cx.harness().reopen(db).await?;
    let after = db.write_one(Write::set(cx.key("b"), 1)).await?;
    ensure!(after > before, "version {after} after reopen, {before} before");
    Ok(())
}
