//! Concurrent writers within one case, through `futures` combinators (DESIGN §7).

use enginedb::{Error, ErrorKind, Value, Write};

use crate::{CaseResult, Ctx, yield_a_while};

fn int(value: Option<Value>) -> i64 {
    match value {
        Some(Value::I64(n)) => n,
        _ => 0,
    }
}

/// 16 writers × 10 `Sum` units on one counter end at exactly 160, in every mode.
pub async fn concurrent_sums_exact(cx: &Ctx<'_>) -> CaseResult {
    let n = cx.key("n");
    let writer = |_| async {
        for _ in 0..10 {
            cx.unit(&[Write::sum(n.clone(), 1)]).await?;
            yield_a_while(1).await;
        }
        Ok::<(), Error>(())
    };
    for result in futures::future::join_all((0..16).map(writer)).await {
        result?;
    }
    ensure_eq!(int(cx.db().get(&n).await?.map(|e| e.value)), 160, "every sum counted");
    Ok(())
}

/// 8 writers × 5 compare-and-set increments (read, then `Check` + `Set`, retrying on
/// `CheckFailed`) lose no update.
pub async fn concurrent_cas_no_lost_update(cx: &Ctx<'_>) -> CaseResult {
    let n = cx.key("n");
    let writer = |_| async {
        let mut done = 0;
        for _ in 0..1000 {
            if done == 5 {
                break;
            }
            let current = cx.db().get(&n).await?;
            let (value, version) = (
                int(current.as_ref().map(|e| e.value.clone())),
                current.map(|e| e.version),
            );
            yield_a_while(1).await;
            match cx
                .unit(&[Write::check(n.clone(), version), Write::set(n.clone(), value + 1)])
                .await
            {
                Ok(_) => done += 1,
                Err(error) if error.kind() == ErrorKind::CheckFailed => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    };
    for result in futures::future::join_all((0..8).map(writer)).await {
        result?;
    }
    ensure_eq!(int(cx.db().get(&n).await?.map(|e| e.value)), 40, "no lost update");
    Ok(())
}

/// 10 writers `Insert` one key: exactly one wins, the rest get `CheckFailed`.
pub async fn concurrent_inserts_one_wins(cx: &Ctx<'_>) -> CaseResult {
    let key = cx.key("k");
    let writer = |id: i64| {
        let key = key.clone();
        async move { (id, cx.unit(&[Write::insert(key, id)]).await) }
    };
    let results = futures::future::join_all((0..10).map(writer)).await;
    let winners: Vec<i64> = results.iter().filter(|(_, r)| r.is_ok()).map(|(id, _)| *id).collect();
    ensure_eq!(winners.len(), 1, "one winner: {winners:?}");
    for (id, result) in &results {
        if let Err(error) = result {
            ensure_eq!(error.kind(), ErrorKind::CheckFailed, "loser {id}");
        }
    }
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.value),
        winners.first().map(|w| Value::I64(*w)),
        "winner stored"
    );
    Ok(())
}

/// Concurrent units that each write the same 5 keys never interleave: a reader always sees
/// all 5 keys from one unit.
pub async fn units_never_interleave(cx: &Ctx<'_>) -> CaseResult {
    let keys: Vec<_> = (0..5).map(|i| cx.key("s").with(i)).collect();
    let writer = |id: i64| {
        let keys = keys.clone();
        async move {
            for round in 0..5 {
                let ops: Vec<Write> = keys.iter().map(|k| Write::set(k.clone(), id * 100 + round)).collect();
                cx.unit(&ops).await?;
                yield_a_while(1).await;
            }
            Ok::<(), Error>(())
        }
    };
    let reader = async {
        let mut torn = Vec::new();
        for _ in 0..40 {
            let seen: Vec<i64> = cx
                .db()
                .get_many(&keys)
                .await?
                .into_iter()
                .map(|e| int(e.map(|e| e.value)))
                .collect();
            if seen.windows(2).any(|w| w.first() != w.get(1)) {
                torn.push(seen);
            }
            yield_a_while(1).await;
        }
        Ok::<_, Error>(torn)
    };
    let (writes, torn) = futures::join!(futures::future::join_all((1..=6).map(writer)), reader);
    for result in writes {
        result?;
    }
    let torn = torn?;
    ensure!(torn.is_empty(), "a reader saw units interleaved: {torn:?}");
    Ok(())
}
