//! Units: all or nothing, in order, under failed preconditions and injected faults
//! (DESIGN §4).

use enginedb::testing::Faulty;
use enginedb::{Atomicity, Db, Error, ErrorKind, MemoryDb, Mode, Selector, Value, Version, Write};

use crate::{CaseResult, Ctx, contents};

/// A unit whose last op is a failing `Check` writes nothing, in every mode (sequential mode
/// checks before its first write).
pub async fn failed_check_at_end_writes_nothing(cx: &Ctx<'_>) -> CaseResult {
    let unit = [
        Write::set(cx.key("a"), 1),
        Write::sum(cx.key("b"), 1),
        Write::delete(cx.key("c")),
        Write::check(cx.key("absent"), Some(enginedb::Version(1))),
    ];
    cx.db().write_one(Write::set(cx.key("c"), "kept")).await?;
    ensure_err!(cx.unit(&unit).await, ErrorKind::CheckFailed, "last check fails");
    ensure_eq!(
        cx.contents().await?,
        vec![(cx.key("c"), Value::from("kept"))],
        "nothing written"
    );
    Ok(())
}

/// A unit whose last op is an `Insert` over an existing key writes nothing.
pub async fn failed_insert_at_end_writes_nothing(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write_one(Write::set(cx.key("taken"), "old")).await?;
    let unit = [
        Write::set(cx.key("a"), 1),
        Write::set(cx.key("b"), 2),
        Write::insert(cx.key("taken"), "new"),
    ];
    let error = ensure_err!(cx.unit(&unit).await, ErrorKind::CheckFailed, "insert over a key");
    ensure!(
        matches!(error, Error::CheckFailed { index: 2, .. }),
        "index 2, got {error:?}"
    );
    ensure_eq!(
        cx.contents().await?,
        vec![(cx.key("taken"), Value::from("old"))],
        "nothing written"
    );
    Ok(())
}

/// A unit whose last op is an overflowing `Sum` writes nothing.
pub async fn failed_sum_at_end_writes_nothing(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write_one(Write::set(cx.key("n"), i64::MAX)).await?;
    let unit = [Write::set(cx.key("a"), 1), Write::sum(cx.key("n"), 1)];
    ensure_err!(cx.unit(&unit).await, ErrorKind::SumFailed, "overflow");
    ensure_eq!(
        cx.contents().await?,
        vec![(cx.key("n"), Value::I64(i64::MAX))],
        "nothing written"
    );
    Ok(())
}

/// A backend failure injected at each op position in turn: atomic modes leave nothing behind;
/// sequential mode keeps exactly the ops before it and says so with `PartialWrite` (or returns
/// the plain error when nothing had been applied).
pub async fn fault_at_every_position(cx: &Ctx<'_>) -> CaseResult {
    for k in 1..=6usize {
        let root = cx.key("run").with(k as i64);
        let unit = [
            Write::set(root.clone().with("a"), 1),
            Write::set(root.clone().with("b"), "two"),
            Write::sum(root.clone().with("c"), 3),
            Write::insert(root.clone().with("d"), 4),
            Write::delete(root.clone().with("e")),
            Write::set(root.clone().with("f"), 6),
        ];
        let existing = Write::set(root.clone().with("e"), "existing");
        cx.db().write_one(existing.clone()).await?;
        let faulty = Faulty::new(cx.db().port().clone()).fail_write(k);
        let result = Db::from(faulty.clone()).write(&unit, Atomicity::BestEffort).await;
        ensure!(
            faulty.writes_sent() >= k,
            "position {k}: the fault was reached ({} ops sent)",
            faulty.writes_sent()
        );
        let applied = if cx.mode() == Mode::Sequential { k - 1 } else { 0 };
        let oracle = Db::from(MemoryDb::new());
        oracle.write_one(existing).await?;
        for op in unit.iter().take(applied) {
            oracle.write_one(op.clone()).await?;
        }
        match result {
            Err(Error::PartialWrite {
                applied: reported,
                failed_at,
                source,
            }) => {
                ensure!(applied > 0, "position {k}: PartialWrite in mode {:?}", cx.mode());
                ensure_eq!(
                    (reported, failed_at),
                    (applied, k - 1),
                    "position {k}: applied, failed_at"
                );
                ensure_eq!(
                    source.kind(),
                    ErrorKind::Backend,
                    "position {k}: the injected fault is the source"
                );
            }
            Err(error) => {
                ensure_eq!(
                    applied,
                    0,
                    "position {k}: a partial write must be reported as one, got {error}"
                );
                ensure_eq!(error.kind(), ErrorKind::Backend, "position {k}: the injected fault");
            }
            Ok(commit) => {
                return Err(crate::CaseError::Failed(format!(
                    "position {k}: the fault was hidden: {commit:?}"
                )));
            }
        }
        let expected = contents(&oracle, &root).await?;
        ensure_eq!(
            contents(cx.db(), &root).await?,
            expected,
            "position {k}: what the store holds"
        );
    }
    Ok(())
}

/// A unit reports the mode the store's capabilities imply (built op by op too), and
/// `capabilities()` agrees with what the port offers.
pub async fn reports_mode(cx: &Ctx<'_>) -> CaseResult {
    let commit = cx
        .unit(&[Write::set(cx.key("a"), 1), Write::set(cx.key("b"), 2)])
        .await?;
    ensure_eq!(commit.mode, cx.mode(), "reported mode");
    let built = cx
        .db()
        .atomic()
        .set(cx.key("c"), 3)
        .sum(cx.key("d"), 4)
        .commit()
        .await?;
    ensure_eq!(built.mode, cx.mode(), "mode reported by the Atomic builder");
    let capabilities = cx.db().capabilities();
    let port = cx.db().port();
    ensure_eq!(
        (capabilities.transactions, capabilities.batches),
        (port.transactions().is_some(), port.batches().is_some()),
        "capabilities() matches the capabilities offered"
    );
    Ok(())
}

/// `Atomicity::Require` runs atomic modes and refuses the sequential one with `Unsupported`,
/// writing nothing.
pub async fn require_refuses_sequential(cx: &Ctx<'_>) -> CaseResult {
    let unit = [Write::set(cx.key("a"), 1), Write::set(cx.key("b"), 2)];
    let result = cx.db().write(&unit, Atomicity::Require).await;
    if cx.mode() == Mode::Sequential {
        ensure_err!(result, ErrorKind::Unsupported, "sequential refused");
        ensure!(cx.contents().await?.is_empty(), "nothing written");
        let built = cx.db().atomic().set(cx.key("c"), 3).require_atomic().commit().await;
        ensure_err!(
            built,
            ErrorKind::Unsupported,
            "sequential refused by the Atomic builder"
        );
        ensure!(cx.contents().await?.is_empty(), "nothing written by the builder");
    } else {
        ensure!(result?.mode.is_atomic(), "an atomic mode");
        ensure_eq!(cx.contents().await?.len(), 2, "both written");
    }
    Ok(())
}

/// Ops apply in order: later ops see earlier ones.
pub async fn ops_apply_in_order(cx: &Ctx<'_>) -> CaseResult {
    let (k, n, x) = (cx.key("k"), cx.key("n"), cx.key("x"));
    cx.db().write_one(Write::set(x.clone(), "old")).await?;
    cx.unit(&[
        Write::set(k.clone(), "a"),
        Write::delete(k.clone()),
        Write::insert(k.clone(), "b"),
        Write::sum(n.clone(), 1),
        Write::sum(n.clone(), 1),
        Write::delete(x.clone()),
        Write::check(x.clone(), None),
    ])
    .await?;
    let values: Vec<Option<Value>> = cx
        .db()
        .get_many(&[k, n, x])
        .await?
        .into_iter()
        .map(|e| e.map(|e| e.value))
        .collect();
    ensure_eq!(
        values,
        vec![Some(Value::from("b")), Some(Value::I64(2)), None],
        "final values"
    );
    Ok(())
}

/// A unit of plain sets that writes a key twice keeps the later value (adapters may apply such
/// units set-wise), at the unit's version.
pub async fn repeated_sets_last_wins(cx: &Ctx<'_>) -> CaseResult {
    let (k, j, i) = (cx.key("k"), cx.key("j"), cx.key("i"));
    cx.db().write_one(Write::set(k.clone(), "old")).await?;
    let commit = cx
        .unit(&[
            Write::set(k.clone(), "a"),
            Write::set(j.clone(), "x"),
            Write::set(k.clone(), 7),
            Write::set(i.clone(), "y"),
        ])
        .await?;
    let entries: Vec<_> = cx.db().get_many(&[k, j, i]).await?.into_iter().flatten().collect();
    let values: Vec<Value> = entries.iter().map(|e| e.value.clone()).collect();
    ensure_eq!(
        values,
        vec![Value::I64(7), Value::from("x"), Value::from("y")],
        "values"
    );
    if commit.mode.is_atomic() {
        let versions: Vec<Version> = entries.iter().map(|e| e.version).collect();
        ensure_eq!(versions, vec![commit.version; 3], "versions");
    }
    Ok(())
}

/// A `DeleteRange` removes the span; a later op of the same unit may write inside it again.
pub async fn delete_range_then_set_in_unit(cx: &Ctx<'_>) -> CaseResult {
    let items: Vec<Write> = (0..5).map(|i| Write::set(cx.key("items").with(i), i)).collect();
    cx.unit(&items).await?;
    cx.db().write_one(Write::set(cx.key("other"), 1)).await?;
    cx.unit(&[
        Write::delete_range(Selector::prefix(cx.key("items"))),
        Write::set(cx.key("items").with(2), 20),
    ])
    .await?;
    let expected = vec![
        (cx.key("items").with(2), Value::I64(20)),
        (cx.key("other"), Value::I64(1)),
    ];
    ensure_eq!(
        cx.contents().await?,
        expected,
        "only the re-set item and the key outside"
    );
    Ok(())
}

/// An empty unit commits in the store's mode and writes nothing.
pub async fn empty_unit_commits(cx: &Ctx<'_>) -> CaseResult {
    let commit = cx.unit(&[]).await?;
    ensure_eq!(commit.mode, cx.mode(), "mode");
    ensure!(cx.contents().await?.is_empty(), "nothing written");
    Ok(())
}
