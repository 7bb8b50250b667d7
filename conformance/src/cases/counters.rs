//! `Sum`, `Min` and `Max` counters at the i64 edges (DESIGN §3 "Value", "Sum", "Min", "Max").

use enginedb::{Error, ErrorKind, SumFailure, Value, Write};

use crate::{CaseResult, Ctx};

async fn value(cx: &Ctx<'_>, name: &str) -> Result<Option<Value>, crate::CaseError> {
    Ok(cx.db().get(&cx.key(name)).await?.map(|e| e.value))
}

/// `Sum` on an absent key starts from 0.
pub async fn sum_absent_starts_at_zero(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write_one(Write::sum(cx.key("n"), 5)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(5)), "0 + 5");
    Ok(())
}

/// Negative deltas subtract, through zero.
pub async fn negative_delta(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write_one(Write::set(cx.key("n"), 3)).await?;
    cx.db().write_one(Write::sum(cx.key("n"), -10)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(-7)), "3 - 10");
    Ok(())
}

/// A sum reaching `i64::MAX` exactly succeeds; one past it fails with `SumFailed(Overflow)`
/// and the unit writes nothing.
pub async fn reaches_max_then_overflow_fails(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write_one(Write::set(cx.key("n"), i64::MAX - 1)).await?;
    cx.db().write_one(Write::sum(cx.key("n"), 1)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(i64::MAX)), "exactly MAX");
    let unit = [Write::set(cx.key("other"), 1), Write::sum(cx.key("n"), 1)];
    let error = ensure_err!(cx.unit(&unit).await, ErrorKind::SumFailed, "MAX + 1");
    ensure!(
        matches!(
            error,
            Error::SumFailed {
                index: 1,
                reason: SumFailure::Overflow,
                ..
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
    cx.db().write_one(Write::set(cx.key("n"), i64::MIN + 5)).await?;
    cx.db().write_one(Write::sum(cx.key("n"), -5)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(i64::MIN)), "exactly MIN");
    ensure_err!(
        cx.db().write_one(Write::sum(cx.key("n"), -1)).await,
        ErrorKind::SumFailed,
        "MIN - 1"
    );
    ensure_err!(
        cx.db().write_one(Write::sum(cx.key("n"), i64::MIN)).await,
        ErrorKind::SumFailed,
        "MIN + MIN"
    );
    ensure_eq!(value(cx, "n").await?, Some(Value::I64(i64::MIN)), "not wrapped");
    Ok(())
}

/// `Sum` over a `Bytes` value fails with `SumFailed(NotACounter)`.
pub async fn sum_on_bytes_fails(cx: &Ctx<'_>) -> CaseResult {
    cx.db().write_one(Write::set(cx.key("b"), "text")).await?;
    let error = ensure_err!(
        cx.db().write_one(Write::sum(cx.key("b"), 1)).await,
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
    cx.db().write_one(Write::set(cx.key("n"), (1i64 << 53) + 1)).await?;
    cx.db().write_one(Write::sum(cx.key("n"), 2)).await?;
    ensure_eq!(value(cx, "n").await?, Some(Value::I64((1 << 53) + 3)), "2^53 + 3");
    cx.unit(&[Write::set(cx.key("max"), i64::MAX), Write::set(cx.key("min"), i64::MIN)])
        .await?;
    ensure_eq!(value(cx, "max").await?, Some(Value::I64(i64::MAX)), "MAX stored");
    ensure_eq!(value(cx, "min").await?, Some(Value::I64(i64::MIN)), "MIN stored");
    cx.db().write_one(Write::sum(cx.key("big"), i64::MAX - 7)).await?;
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

/// `Min` and `Max` keep the smaller or larger of the counter and the operand (absent: the
/// operand), over positives, negatives and the i64 edges, nothing wrapped; a `Bytes` value
/// under the key fails the unit with `SumFailed` and writes nothing; inside a unit they apply
/// in order with the other ops.
pub async fn min_and_max_keep_the_extreme(cx: &Ctx<'_>) -> CaseResult {
    // Absent: the operand, not 0 (a positive min and a negative max tell them apart).
    cx.db().write_one(Write::min(cx.key("lo"), 5)).await?;
    cx.db().write_one(Write::max(cx.key("hi"), -5)).await?;
    ensure_eq!(value(cx, "lo").await?, Some(Value::I64(5)), "min on an absent key");
    ensure_eq!(value(cx, "hi").await?, Some(Value::I64(-5)), "max on an absent key");
    // Each step: (operand, min expected, max expected), applied to both counters.
    let steps = [
        (9, 5, 9),
        (3, 3, 9),
        (3, 3, 9),
        (-4, -4, 9),
        (-2, -4, 9),
        (12, -4, 12),
        (i64::MAX, -4, i64::MAX),
        (i64::MIN, i64::MIN, i64::MAX),
        (0, i64::MIN, i64::MAX),
        (-1, i64::MIN, i64::MAX),
        (1, i64::MIN, i64::MAX),
    ];
    for (operand, low, high) in steps {
        cx.db().write_one(Write::min(cx.key("lo"), operand)).await?;
        cx.db().write_one(Write::max(cx.key("hi"), operand)).await?;
        ensure_eq!(
            (value(cx, "lo").await?, value(cx, "hi").await?),
            (Some(Value::I64(low)), Some(Value::I64(high))),
            "min and max after {operand}"
        );
    }
    // The edges against the opposite edge, where a comparison by subtraction would wrap.
    let edges = [
        (i64::MAX, Write::min(cx.key("e1"), i64::MIN), i64::MIN),
        (i64::MIN, Write::max(cx.key("e2"), i64::MAX), i64::MAX),
        (i64::MIN, Write::min(cx.key("e3"), i64::MAX), i64::MIN),
        (i64::MAX, Write::max(cx.key("e4"), i64::MIN), i64::MAX),
        (-1, Write::max(cx.key("e5"), i64::MAX), i64::MAX),
        (1, Write::min(cx.key("e6"), i64::MIN), i64::MIN),
    ];
    for (start, op, expected) in edges {
        let key = ensure_some!(op.key().cloned(), "a counter op has a key");
        cx.db().write_one(Write::set(key.clone(), start)).await?;
        cx.db().write_one(op.clone()).await?;
        ensure_eq!(
            cx.db().get(&key).await?.map(|e| e.value),
            Some(Value::I64(expected)),
            "{op:?} on {start}"
        );
    }
    // A Bytes value is not a counter: the unit fails at that op and writes nothing.
    cx.db().write_one(Write::set(cx.key("text"), "not a counter")).await?;
    for op in [Write::min(cx.key("text"), 1), Write::max(cx.key("text"), 1)] {
        let unit = [Write::set(cx.key("side"), 1), Write::sum(cx.key("lo"), 1), op.clone()];
        let error = ensure_err!(cx.unit(&unit).await, ErrorKind::SumFailed, "{op:?} on bytes");
        ensure!(
            matches!(
                error,
                Error::SumFailed {
                    index: 2,
                    reason: SumFailure::NotACounter,
                    ..
                }
            ),
            "not a counter at op 2, got {error:?}"
        );
        ensure_err!(
            cx.db().write_one(op.clone()).await,
            ErrorKind::SumFailed,
            "{op:?} on bytes by itself"
        );
    }
    ensure_eq!(
        value(cx, "text").await?,
        Some(Value::from("not a counter")),
        "bytes unchanged"
    );
    ensure_eq!(value(cx, "side").await?, None, "nothing of a failed unit written");
    ensure_eq!(
        value(cx, "lo").await?,
        Some(Value::I64(i64::MIN)),
        "no sum of a failed unit kept"
    );
    // In a unit with other ops, in order.
    let (m, n) = (cx.key("m"), cx.key("n"));
    let commit = cx
        .unit(&[
            Write::set(m.clone(), 10),
            Write::min(m.clone(), 4),
            Write::sum(m.clone(), 1),
            Write::max(m.clone(), 3),
            Write::max(n.clone(), 8),
            Write::set(cx.key("side"), "x"),
            Write::min(n.clone(), 2),
            Write::delete(cx.key("text")),
            Write::max(cx.key("text"), -7),
        ])
        .await?;
    ensure_eq!(
        (value(cx, "m").await?, value(cx, "n").await?, value(cx, "text").await?),
        (Some(Value::I64(5)), Some(Value::I64(2)), Some(Value::I64(-7))),
        "min(10, 4) + 1, then max(5, 3); max of absent = 8, then min(8, 2); deleted, then max"
    );
    if commit.mode.is_atomic() {
        let versions: Vec<_> = cx
            .db()
            .get_many(&[m, n, cx.key("text")])
            .await?
            .into_iter()
            .map(|e| e.map(|e| e.version))
            .collect();
        ensure_eq!(versions, vec![Some(commit.version); 3], "one version for the unit");
    }
    let built = cx
        .db()
        .atomic()
        .min(cx.key("b"), 7)
        .max(cx.key("b"), 9)
        .min(cx.key("b"), 8)
        .commit()
        .await?;
    ensure_eq!(value(cx, "b").await?, Some(Value::I64(8)), "through the Atomic builder");
    ensure_eq!(built.mode, cx.mode(), "the builder's mode");
    Ok(())
}
