//! Error kinds as the store reports them (DESIGN §5).

use enginedb::limits::MAX_VALUE_BYTES;
use enginedb::{Error, ErrorKind, Key, Write};

use crate::{CaseResult, Ctx};

async fn errors_of(cx: &Ctx<'_>) -> Result<Vec<(ErrorKind, Error)>, crate::CaseError> {
    cx.db().write(&Write::set(cx.key("taken"), "bytes")).await?;
    let cases = [
        (ErrorKind::InvalidInput, Write::set(Key::default(), 1)),
        (
            ErrorKind::LimitExceeded,
            Write::set(cx.key("big"), vec![0; MAX_VALUE_BYTES + 1]),
        ),
        (ErrorKind::CheckFailed, Write::insert(cx.key("taken"), 1)),
        (
            ErrorKind::CheckFailed,
            Write::check(cx.key("absent"), Some(enginedb::Version(1))),
        ),
        (ErrorKind::SumFailed, Write::sum(cx.key("taken"), 1)),
    ];
    let mut out = Vec::new();
    for (kind, op) in cases {
        match cx.unit(&[Write::set(cx.key("side"), 1), op]).await {
            Err(error) => out.push((kind, error)),
            Ok(commit) => return Err(crate::CaseError::Failed(format!("expected {kind:?}, got {commit:?}"))),
        }
    }
    Ok(out)
}

/// Each kind of bad unit fails with its own kind, none of them retryable.
pub async fn adapter_errors_have_kinds(cx: &Ctx<'_>) -> CaseResult {
    for (kind, error) in errors_of(cx).await? {
        ensure_eq!(error.kind(), kind, "kind of {error}");
        ensure!(!error.is_retryable(), "{error} is not retryable");
    }
    Ok(())
}

/// Errors of refused units say that nothing was written, and nothing was.
pub async fn errors_say_what_was_written(cx: &Ctx<'_>) -> CaseResult {
    for (_, error) in errors_of(cx).await? {
        ensure!(
            error.to_string().contains("nothing was written"),
            "message of {error:?}"
        );
    }
    ensure_eq!(cx.db().get(&cx.key("side")).await?, None, "no unit wrote its first op");
    Ok(())
}
