//! `Sum` counters at the i64 edges (DESIGN §3 "Value", "Sum").

use enginedb::{Error, ErrorKind, SumFailure, Value, Write};

use crate::{CaseResult, Ctx};

async fn value(cx: &Ctx<'_>, name: &str) -> Result<Option<Value>, crate::CaseError> {
    Ok(cx.db().get(&cx.key(name)).await?.map(|e| e.value))
}

/// `Sum` on an absent key starts from 0.
pub async fn sum_absent_starts_at_zero(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write(&Write::sum(cx.key("n"), 5)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(5)), "0 + 5");
    Ok(())
}

/// Negative deltas subtract, through zero.
pub async fn negative_delta(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write(&Write::set(cx.key("n"), 3)).await?;
    cx.db().write(&Write::sum(cx.key("n"), -10)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(-7)), "3 - 10");
    Ok(())
}

/// A sum reaching `i64::MAX` exactly succeeds; one past it fails with `SumFailed(Overflow)`
/// and the unit writes nothing.
pub async fn reaches_max_then_overflow_fails(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write(&Write::set(cx.key("n"), i64::MAX - 1)).await?;
    cx.db().write(&Write::sum(cx.key("n"), 1)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(i64::MAX)), "exactly MAX");
    let unit = [Write::set(cx.key("other"), 1), Write::sum(cx.key("n"), 1)];
    let error = ensure_err!(cx.unit(&unit).await, ErrorKind::SumFailed, "MAX + 1");
    ensure!(
        matches!(
            error,
            Error::SumFailed {
                index: 1,
                reason: SumFailure::Overflow
            }
        ),
        "overflow at op 1, got {error:?}"
    );
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(i64::MAX)), "not wrapped");
    ensure_eq!(value(cx, "other").await?, None, "nothing of the unit written");
    Ok(())
}

/// A sum reaching `i64::MIN` exactly succeeds; one below it fails and nothing is written.
pub async fn reaches_min_then_underflow_fails(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write(&Write::set(cx.key("n"), i64::MIN + 5)).await?;
    cx.db().write(&Write::sum(cx.key("n"), -5)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(i64::MIN)), "exactly MIN");
    ensure_err!(
        cx.db().write(&Write::sum(cx.key("n"), -1)).await,
        ErrorKind::SumFailed,
        "MIN - 1"
    );
    ensure_err!(
        cx.db().write(&Write::sum(cx.key("n"), i64::MIN)).await,
        ErrorKind::SumFailed,
        "MIN + MIN"
    );
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(i64::MIN)), "not wrapped");
    Ok(())
}

/// `Sum` over a `Bytes` value fails with `SumFailed(NotACounter)`.
pub async fn sum_on_bytes_fails(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write(&Write::set(cx.key("b"), "text")).await?;
    let error = ensure_err!(
        cx.db().write(&Write::sum(cx.key("b"), 1)).await,
        ErrorKind::SumFailed,
        "sum on bytes"
    );
    ensure!(
        matches!(
            error,
            Error::SumFailed {
                reason: SumFailure::NotACounter,
                ..
            }
        ),
        "not a counter, got {error:?}"
    );
    ensure_eq!(value(cx, "b").await?, Some(Value::Bytes(b"text".to_vec())), "unchanged");
    Ok(())
}

/// Counters are exact past 2^53, where a double would round.
pub async fn exact_beyond_two_pow_53(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write(&Write::set(cx.key("n"), (1i64 << 53) + 1)).await?;
    cx.db().write(&Write::sum(cx.key("n"), 2)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64((1 << 53) + 3)), "2^53 + 3");
    cx.unit(&[Write::set(cx.key("max"), i64::MAX), Write::set(cx.key("min"), i64::MIN)])
        .await?;
    ensure_eq!(value(cx, "max").await?, Some(Value::I64(i64::MAX)), "MAX stored");
    ensure_eq!(value(cx, "min").await?, Some(Value::I64(i64::MIN)), "MIN stored");
    cx.db().write(&Write::sum(cx.key("big"), i64::MAX - 7)).await?;
    ensure_eq!(value(cx, "big").await?, Some(Value::I64(i64::MAX - 7)), "a huge delta");
    Ok(())
}

/// Several sums on one key in one unit add up in order; an overflow at the second fails all.
pub async fn repeated_sums_in_one_unit(cx: &Ctx<'_>) -> CaseResult {
    let n = cx.key("n");
    cx.unit(&[
        Write::sum(n.clone(), 1),
        Write::sum(n.clone(), 2),
        Write::sum(n.clone(), 3),
    ])
    .await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(6)), "1 + 2 + 3");
    let unit = [Write::sum(n.clone(), i64::MAX - 6), Write::sum(n.clone(), 1)];
    ensure_err!(cx.unit(&unit).await, ErrorKind::SumFailed, "second sum overflows");
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(6)), "first sum not kept");
    Ok(())
}
