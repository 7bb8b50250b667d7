//! Native interactive transactions (DESIGN §4 `TransactionCapability`).
//!
//! A `Conflict` (or `Busy`) from a transaction means it lost a race and wrote nothing; the
//! contract says to run it again, so each scenario here is retried on those errors (with the
//! store's own timer) before its outcome is checked.

use std::future::Future;
use std::time::Duration;

use enginedb::port::TransactionCapability;
use enginedb::{Error, Value, Version, Write};

use crate::{CaseError, CaseResult, Ctx, yield_a_while};

/// The store's own interactive transactions, at the port (these cases need them).
fn transactions<'c>(cx: &'c Ctx<'_>) -> Result<&'c dyn TransactionCapability, CaseError> {
    Ok(ensure_some!(
        cx.db().port().transactions(),
        "a store with interactive transactions"
    ))
}

/// Runs `scenario` until it does not lose a race (at most 20 times).
async fn settled<T, F, Fut>(cx: &Ctx<'_>, mut scenario: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut attempt = 1;
    loop {
        match scenario().await {
            Err(error) if error.is_retryable() && attempt < 20 => {
                attempt += 1;
                cx.db().port().pause(Duration::from_millis(2 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// A plain write issued while a transaction is open (and waiting) neither joins it nor is
/// rolled back with it.
pub async fn plain_write_never_joins(cx: &Ctx<'_>) -> CaseResult {
    let txs = transactions(cx)?;
    let (inside, outside) = (cx.key("inside"), cx.key("outside"));
    settled(cx, || async {
        let open_then_roll_back = async {
            let mut tx = txs.begin().await?;
            tx.apply(&[Write::set(inside.clone(), 1)]).await?;
            yield_a_while(20).await;
            tx.rollback().await
        };
        let write_meanwhile = async {
            yield_a_while(2).await;
            cx.db().write_one(Write::set(outside.clone(), 2)).await
        };
        let (rolled_back, written) = futures::join!(open_then_roll_back, write_meanwhile);
        rolled_back.and(written.map(drop))
    })
    .await?;
    ensure_eq!(
        cx.db().get(&inside).await?,
        None,
        "the transaction's write is rolled back"
    );
    ensure_eq!(
        cx.db().get(&outside).await?.map(|e| e.value),
        Some(Value::I64(2)),
        "the plain write stays"
    );
    Ok(())
}

/// A transaction dropped without commit is rolled back and does not block the next one.
pub async fn dropped_rolls_back_and_frees(cx: &Ctx<'_>) -> CaseResult {
    let txs = transactions(cx)?;
    let mut tx = txs.begin().await?;
    tx.apply(&[Write::set(cx.key("a"), 1)]).await?;
    drop(tx);
    ensure_eq!(cx.db().get(&cx.key("a")).await?, None, "rolled back");
    settled(cx, || async {
        let mut next = txs.begin().await?;
        next.apply(&[Write::set(cx.key("b"), 2)]).await?;
        next.commit().await
    })
    .await?;
    cx.db().write_one(Write::set(cx.key("c"), 3)).await?;
    ensure_eq!(cx.contents().await?.len(), 2, "later writes went through");
    Ok(())
}

/// A transaction reads its own uncommitted writes with `Version::PENDING`; others don't see
/// them until commit.
pub async fn reads_own_writes_pending(cx: &Ctx<'_>) -> CaseResult {
    let txs = transactions(cx)?;
    let key = cx.key("k");
    let (inside, outside, version) = settled(cx, || async {
        let mut tx = txs.begin().await?;
        tx.apply(&[Write::set(key.clone(), "v")]).await?;
        let inside = tx.get(&key).await?.map(|e| e.version);
        let outside = cx.db().get(&key).await?;
        Ok((inside, outside, tx.commit().await?))
    })
    .await?;
    ensure_eq!(inside, Some(Version::PENDING), "own write inside");
    ensure_eq!(outside, None, "invisible outside before commit");
    ensure_eq!(
        cx.db().get(&key).await?.map(|e| e.version),
        Some(version),
        "committed version"
    );
    Ok(())
}

/// Every key a transaction writes gets the commit's version, larger than any before.
pub async fn commit_stamps_one_version(cx: &Ctx<'_>) -> CaseResult {
    let txs = transactions(cx)?;
    let before = cx.db().write_one(Write::set(cx.key("z"), 0)).await?;
    let version = settled(cx, || async {
        let mut tx = txs.begin().await?;
        tx.apply(&[Write::set(cx.key("a"), 1)]).await?;
        tx.apply(&[Write::sum(cx.key("b"), 2), Write::insert(cx.key("c"), 3)])
            .await?;
        tx.commit().await
    })
    .await?;
    ensure!(version > before, "commit {version} after {before}");
    let got = cx.db().get_many(&[cx.key("a"), cx.key("b"), cx.key("c")]).await?;
    let versions: Vec<Option<Version>> = got.into_iter().map(|e| e.map(|e| e.version)).collect();
    ensure_eq!(versions, vec![Some(version); 3], "one version");
    Ok(())
}

/// An explicit rollback discards the writes and leaves earlier data as it was.
pub async fn explicit_rollback(cx: &Ctx<'_>) -> CaseResult {
    let txs = transactions(cx)?;
    let version = cx.db().write_one(Write::set(cx.key("a"), "old")).await?;
    settled(cx, || async {
        let mut tx = txs.begin().await?;
        tx.apply(&[Write::set(cx.key("a"), "new"), Write::set(cx.key("b"), 1)])
            .await?;
        tx.rollback().await
    })
    .await?;
    let got = cx.db().get(&cx.key("a")).await?.map(|e| (e.value, e.version));
    ensure_eq!(got, Some((Value::from("old"), version)), "a unchanged");
    ensure_eq!(cx.db().get(&cx.key("b")).await?, None, "b never written");
    Ok(())
}
