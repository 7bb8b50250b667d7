//! Reopening a persistent store (DESIGN §7 "reopen persistence").

use enginedb::{EngineDb, Result, Value, Write};

use crate::{CaseError, CaseResult, Ctx};

async fn reopen<'h>(cx: &Ctx<'h>, db: Box<dyn EngineDb + 'h>) -> Result<Box<dyn EngineDb + 'h>, CaseError> {
    match cx.harness().reopen(db).await {
        Some(reopened) => Ok(reopened?),
        None => Err(CaseError::NotApplicable("reopen (a persistent store)")),
    }
}

/// Committed data, values and versions, survive closing and reopening the store.
pub async fn reopen_keeps_data(cx: &Ctx<'_>) -> CaseResult {
    let db = cx.harness().open().await?;
    let ops = [
        Write::set(cx.key("a"), "x"),
        Write::set(cx.key("n"), i64::MIN),
        Write::set(cx.key("b"), vec![0u8, 255]),
    ];
    enginedb::run_atomic_writes(&*db, &ops, enginedb::Atomicity::BestEffort).await?;
    let before = crate::contents(&*db, cx.root()).await?;
    let versions = db.get(&cx.key("a")).await?.map(|e| e.version);
    let db = reopen(cx, db).await?;
    ensure_eq!(crate::contents(&*db, cx.root()).await?, before, "contents after reopen");
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
    let before = db.write(&Write::set(cx.key("a"), 1)).await?;
    let db = reopen(cx, db).await?;
    let after = db.write(&Write::set(cx.key("b"), 1)).await?;
    ensure!(after > before, "version {after} after reopen, {before} before");
    Ok(())
}
