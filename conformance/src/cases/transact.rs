//! `transact`: read-modify-write, natively or optimistically (DESIGN §4 "transact").

use std::cell::Cell;

use enginedb::{Error, ErrorKind, Key, Mode, Page, RetryPolicy, Selector, Value, Version, Write};

use crate::{CaseResult, Ctx, yield_a_while};

fn int(entry: Option<enginedb::Entry>) -> i64 {
    match entry.map(|e| e.value) {
        Some(Value::I64(n)) => n,
        _ => 0,
    }
}

fn keys(page: Page) -> Vec<Key> {
    page.entries.into_iter().map(|e| e.key).collect()
}

/// Many attempts, for cases that contend on purpose.
const PATIENT: RetryPolicy = RetryPolicy {
    max_attempts: 100,
    base_delay: std::time::Duration::from_millis(1),
    max_delay: std::time::Duration::from_millis(20),
};

/// Read a counter, add one, write it back.
pub async fn read_modify_write(cx: &Ctx<'_>) -> CaseResult {
    let n = cx.key("n");
    cx.db().write_one(Write::set(n.clone(), 41)).await?;
    let read = cx
        .db()
        .transact(async |tx| {
            let value = int(tx.get(&n).await?);
            tx.set(n.clone(), value + 1);
            Ok::<_, Error>(value)
        })
        .await?;
    ensure_eq!(read, 41, "value read");
    ensure_eq!(int(cx.db().get(&n).await?), 42, "value written");
    Ok(())
}

/// Inside a transaction, reads see its own writes (with `Version::PENDING`), deletes and range
/// deletes, merged into lists in order, with paging and reverse; nothing is visible outside
/// before commit.
pub async fn sees_own_writes(cx: &Ctx<'_>) -> CaseResult {
    let item = |i: i64| cx.key("items").with(i);
    let all = Selector::prefix(cx.key("items"));
    cx.unit(&[Write::set(item(0), 0), Write::set(item(1), 1), Write::set(item(2), 2)])
        .await?;
    let seen = cx
        .db()
        .transact(async |tx| {
            tx.set(item(5), 5).delete(item(1));
            let five = tx.get(&item(5)).await?.map(|e| (e.value, e.version));
            let one = tx.get(&item(1)).await?;
            let outside = cx.db().get(&item(5)).await?;
            let listed = keys(tx.list(all.clone()).page().await?);
            let first = tx.list(all.clone()).limit(2).page().await?;
            let second = keys(tx.list(all.clone()).limit(2).after(first.cursor.clone()).page().await?);
            let reversed = keys(tx.list(all.clone()).reverse().page().await?);
            tx.delete_range(all.clone()).set(item(7), 7);
            let after_clear = keys(tx.list(all.clone()).page().await?);
            Ok::<_, Error>((five, one, outside, listed, keys(first), second, reversed, after_clear))
        })
        .await?;
    let (five, one, outside, listed, first, second, reversed, after_clear) = seen;
    ensure_eq!(five, Some((Value::I64(5), Version::PENDING)), "own write read back");
    ensure_eq!(one, None, "own delete read back");
    ensure_eq!(outside, None, "uncommitted write invisible outside");
    ensure_eq!(listed, vec![item(0), item(2), item(5)], "merged list");
    ensure_eq!((first, second), (vec![item(0), item(2)], vec![item(5)]), "merged pages");
    ensure_eq!(reversed, vec![item(5), item(2), item(0)], "merged reverse list");
    ensure_eq!(after_clear, vec![item(7)], "list after an own range delete");
    let committed: Vec<Key> = cx.contents().await?.into_iter().map(|(k, _)| k).collect();
    ensure_eq!(committed, vec![item(7)], "committed state");
    Ok(())
}

/// A body that fails writes nothing and is not retried.
pub async fn body_error_writes_nothing(cx: &Ctx<'_>) -> CaseResult {
    let calls = Cell::new(0);
    let result = cx
        .db()
        .transact(async |tx| {
            calls.set(calls.get() + 1);
            tx.set(cx.key("a"), 1);
            Err::<(), _>(Error::invalid("the body gives up"))
        })
        .await;
    ensure_err!(result, ErrorKind::InvalidInput, "the body's error");
    ensure_eq!(calls.get(), 1, "not retried");
    ensure!(cx.contents().await?.is_empty(), "nothing written");
    Ok(())
}

/// 8 concurrent transactions × 5 increments of one counter end at exactly 40.
pub async fn concurrent_increments_exact(cx: &Ctx<'_>) -> CaseResult {
    let n = cx.key("n");
    let worker = |_| async {
        for _ in 0..5 {
            cx.db()
                .transaction()
                .retry(PATIENT)
                .run(async |tx| {
                    let value = int(tx.get(&n).await?);
                    yield_a_while(1).await;
                    tx.set(n.clone(), value + 1);
                    Ok::<_, Error>(())
                })
                .await?;
        }
        Ok::<(), Error>(())
    };
    for result in futures::future::join_all((0..8).map(worker)).await {
        result?;
    }
    ensure_eq!(int(cx.db().get(&n).await?), 40, "no lost increment");
    Ok(())
}

/// Two transactions that each keep "x + y >= 1" by reading both and zeroing one never break
/// it together (no write skew).
pub async fn write_skew_prevented(cx: &Ctx<'_>) -> CaseResult {
    let (x, y) = (cx.key("x"), cx.key("y"));
    cx.unit(&[Write::set(x.clone(), 1), Write::set(y.clone(), 1)]).await?;
    let zero = |mine: Key| {
        let (x, y) = (&x, &y);
        async move {
            cx.db()
                .transaction()
                .retry(PATIENT)
                .run(async |tx| {
                    let sum = int(tx.get(x).await?) + int(tx.get(y).await?);
                    yield_a_while(3).await;
                    if sum >= 2 {
                        tx.set(mine.clone(), 0);
                    }
                    Ok::<_, Error>(())
                })
                .await
        }
    };
    let (a, b) = futures::join!(zero(x.clone()), zero(y.clone()));
    a?;
    b?;
    let sum = int(cx.db().get(&x).await?) + int(cx.db().get(&y).await?);
    ensure_eq!(sum, 1, "exactly one of them zeroed its key");
    Ok(())
}

/// Optimistic: a key read by the body and changed before commit makes the commit conflict; the
/// body runs again on fresh data.
pub async fn conflict_retries(cx: &Ctx<'_>) -> CaseResult {
    let n = cx.key("n");
    cx.db().write_one(Write::set(n.clone(), 1)).await?;
    let done = cx
        .db()
        .transaction()
        .run(async |tx| {
            let value = int(tx.get(&n).await?);
            if value == 1 {
                cx.db().write_one(Write::set(n.clone(), 100)).await?;
            }
            tx.set(n.clone(), value + 1);
            Ok::<_, Error>(())
        })
        .await?;
    ensure_eq!(done.attempts, 2, "one conflict, one retry");
    ensure_eq!(int(cx.db().get(&n).await?), 101, "the retry saw the concurrent write");
    Ok(())
}

/// Optimistic: a key inserted into a listed span before commit (a phantom) makes it conflict.
pub async fn phantom_detected(cx: &Ctx<'_>) -> CaseResult {
    let items = Selector::prefix(cx.key("items"));
    cx.unit(
        &(0..3)
            .map(|i| Write::set(cx.key("items").with(i), i))
            .collect::<Vec<_>>(),
    )
    .await?;
    let attempts = Cell::new(0);
    cx.db()
        .transact(async |tx| {
            attempts.set(attempts.get() + 1);
            let count = tx.list(items.clone()).page().await?.entries.len() as i64;
            if attempts.get() == 1 {
                cx.db().write_one(Write::set(cx.key("items").with(10), 10)).await?;
            }
            tx.set(cx.key("count"), count);
            Ok::<_, Error>(())
        })
        .await?;
    ensure_eq!(attempts.get(), 2, "the phantom forced a retry");
    ensure_eq!(
        int(cx.db().get(&cx.key("count")).await?),
        4,
        "the count includes the phantom"
    );
    Ok(())
}

/// Optimistic: a limited list covers only the span it read; a write beyond it is no conflict.
pub async fn span_is_what_was_read(cx: &Ctx<'_>) -> CaseResult {
    let items = Selector::prefix(cx.key("items"));
    cx.unit(
        &(0..6)
            .map(|i| Write::set(cx.key("items").with(i * 10), i))
            .collect::<Vec<_>>(),
    )
    .await?;
    let attempts = Cell::new(0);
    cx.db()
        .transact(async |tx| {
            attempts.set(attempts.get() + 1);
            let page = tx.list(items.clone()).limit(2).page().await?;
            if attempts.get() == 1 {
                cx.db().write_one(Write::set(cx.key("items").with(55), 0)).await?;
            }
            tx.set(cx.key("seen"), page.entries.len() as i64);
            Ok::<_, Error>(())
        })
        .await?;
    ensure_eq!(attempts.get(), 1, "a write past the span read is no conflict");
    Ok(())
}

/// Optimistic: a transaction that loses every race gives up with a retryable `Conflict` after
/// the policy's attempts.
pub async fn gives_up_with_conflict(cx: &Ctx<'_>) -> CaseResult {
    let n = cx.key("n");
    let attempts = Cell::new(0);
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let result = cx
        .db()
        .transaction()
        .retry(policy)
        .run(async |tx| {
            attempts.set(attempts.get() + 1);
            let value = int(tx.get(&n).await?);
            cx.db().write_one(Write::sum(n.clone(), 1)).await?;
            tx.set(n.clone(), value + 1000);
            Ok::<_, Error>(())
        })
        .await;
    let error = ensure_err!(result, ErrorKind::Conflict, "every attempt conflicted");
    ensure!(error.is_retryable(), "Conflict is retryable");
    ensure_eq!(attempts.get(), 3, "the policy's attempts");
    ensure_eq!(int(cx.db().get(&n).await?), 3, "only the concurrent writes landed");
    Ok(())
}

/// `transact` commits natively with `Mode::Transaction`, optimistically with `Mode::Batch`, and
/// refuses a store with neither capability with `Unsupported`.
pub async fn commit_mode(cx: &Ctx<'_>) -> CaseResult {
    let result = cx
        .db()
        .transaction()
        .run(async |tx| {
            tx.set(cx.key("k"), 1);
            Ok::<_, Error>(())
        })
        .await;
    match cx.mode() {
        Mode::Sequential => {
            ensure_err!(result, ErrorKind::Unsupported, "no atomic capability");
            ensure!(cx.contents().await?.is_empty(), "nothing written");
        }
        mode => {
            let done = result?;
            ensure_eq!(done.commit.mode, mode, "commit mode");
            ensure_eq!(
                cx.db().get(&cx.key("k")).await?.map(|e| e.version),
                Some(done.commit.version),
                "version"
            );
        }
    }
    Ok(())
}
