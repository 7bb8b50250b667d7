//! Error kinds as the store reports them, and what their messages say was written (DESIGN §5,
//! §6).

use enginedb::limits::{MAX_GET_MANY, MAX_KEY_BYTES, MAX_LIST_LIMIT, MAX_VALUE_BYTES};
use enginedb::testing::Faulty;
use enginedb::{Cursor, Db, Entry, Error, ErrorKind, Key, KeyPart, Selector, Write};
use futures::StreamExt;

use crate::{CaseError, CaseResult, Ctx};

async fn errors_of(cx: &Ctx<'_>) -> Result<Vec<(ErrorKind, Error)>, CaseError> {
    cx.db().write_one(Write::set(cx.key("taken"), "bytes")).await?;
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
            Ok(commit) => return Err(CaseError::Failed(format!("expected {kind:?}, got {commit:?}"))),
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

/// The store wrapped so that its read number `n` (a `get`, `get_many` or `list` call,
/// counting from now) fails in the backend.
fn failing_read(cx: &Ctx<'_>, n: usize) -> Db {
    Db::from(Faulty::new(cx.db().port().clone()).fail_read(n))
}

/// A read that fails in the backend is an error wherever it happens: a listing whose third
/// page fails yields the entries of the first two, then the error, then ends; `collect` returns
/// the error, never the entries read before it as if they were all; a failed `get_many` or
/// `get` is an error, never missing entries.
pub async fn read_failure_mid_scan_is_an_error(cx: &Ctx<'_>) -> CaseResult {
    let keys: Vec<Key> = (0..25).map(|i| cx.key("scan").with(i)).collect();
    cx.unit(&keys.iter().map(|k| Write::set(k.clone(), 1)).collect::<Vec<_>>())
        .await?;
    let selector = Selector::prefix(cx.key("scan"));
    let all = cx.db().list(selector.clone()).limit(10).collect().await?;
    let listed: Vec<Key> = all.iter().map(|e| e.key.clone()).collect();
    ensure_eq!(listed, keys, "every key, page after page, without a fault");

    for (fail_at, before) in [(3, 20), (2, 10), (1, 0)] {
        let db = failing_read(cx, fail_at);
        let items: Vec<Result<Entry, Error>> = db.list(selector.clone()).limit(10).stream().collect().await;
        let read: Vec<Key> = items
            .iter()
            .map_while(|r| r.as_ref().ok())
            .map(|e| e.key.clone())
            .collect();
        ensure_eq!(
            read,
            keys.iter().take(before).cloned().collect::<Vec<_>>(),
            "read {fail_at} fails: the entries of the pages before it, in order"
        );
        ensure_eq!(
            items.len(),
            before + 1,
            "read {fail_at} fails: then one error, then the end"
        );
        match items.last() {
            Some(Err(error)) => ensure_eq!(error.kind(), ErrorKind::Backend, "the injected fault: {error}"),
            other => {
                return Err(CaseError::Failed(format!(
                    "read {fail_at} fails: the stream ended with {other:?}"
                )));
            }
        }
        let collected = failing_read(cx, fail_at)
            .list(selector.clone())
            .limit(10)
            .collect()
            .await;
        ensure_err!(collected, ErrorKind::Backend, "collect when read {fail_at} fails");
    }
    let reversed = failing_read(cx, 2)
        .list(selector.clone())
        .limit(7)
        .reverse()
        .collect()
        .await;
    ensure_err!(
        reversed,
        ErrorKind::Backend,
        "a reverse collect whose second page fails"
    );

    ensure_err!(
        failing_read(cx, 1).get_many(&keys).await,
        ErrorKind::Backend,
        "a get_many whose read fails"
    );
    let db = failing_read(cx, 2);
    ensure_eq!(db.get_many(&keys).await?.len(), 25, "the read before the fault answers");
    ensure_err!(db.get_many(&keys).await, ErrorKind::Backend, "the failing get_many");
    ensure_eq!(db.get_many(&keys).await?.len(), 25, "the read after the fault answers");
    ensure_err!(
        failing_read(cx, 1).get(&cx.key("scan").with(3)).await,
        ErrorKind::Backend,
        "a get whose read fails"
    );
    Ok(())
}

/// A read's error never talks about writing (nothing was asked to be written); the error of
/// a refused write ends by saying that nothing was written.
pub async fn read_errors_do_not_talk_about_writing(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::prefix(cx.key("items"));
    cx.unit(&[
        Write::set(cx.key("items").with(1), 1),
        Write::set(cx.key("items").with(2), "b"),
    ])
    .await?;
    let cursor = ensure_some!(cx.db().list(selector.clone()).limit(1).page().await?.cursor, "a cursor");
    let too_long = cx.key(KeyPart::Bytes(vec![b'x'; MAX_KEY_BYTES]));
    let many: Vec<Key> = (0..=MAX_GET_MANY as i64).map(|i| cx.key(i)).collect();
    let reads: Vec<(&str, Error)> = vec![
        (
            "list limit 0",
            ensure_err!(
                cx.db().list(selector.clone()).limit(0).page().await,
                ErrorKind::InvalidInput,
                "list limit 0"
            ),
        ),
        (
            "list over the limit",
            ensure_err!(
                cx.db().list(selector.clone()).limit(MAX_LIST_LIMIT + 1).collect().await,
                ErrorKind::LimitExceeded,
                "list over the limit"
            ),
        ),
        (
            "bound outside the prefix",
            ensure_err!(
                cx.db().list(selector.clone().start(cx.key("other"))).page().await,
                ErrorKind::InvalidInput,
                "bound outside the prefix"
            ),
        ),
        (
            "cursor in the other direction",
            ensure_err!(
                cx.db().list(selector.clone()).reverse().after(cursor).page().await,
                ErrorKind::InvalidInput,
                "cursor in the other direction"
            ),
        ),
        (
            "garbage cursor",
            ensure_err!(
                cx.db()
                    .list(selector.clone())
                    .after(Cursor::from_bytes(vec![0x77]))
                    .page()
                    .await,
                ErrorKind::InvalidInput,
                "garbage cursor"
            ),
        ),
        (
            "get of the empty key",
            ensure_err!(cx.db().get(&Key::default()).await, ErrorKind::InvalidInput, "empty key"),
        ),
        (
            "get of a key over the limit",
            ensure_err!(cx.db().get(&too_long).await, ErrorKind::LimitExceeded, "long key"),
        ),
        (
            "get_many over the limit",
            ensure_err!(cx.db().get_many(&many).await, ErrorKind::LimitExceeded, "get_many over"),
        ),
        (
            "a read failing in the backend",
            ensure_err!(
                failing_read(cx, 1).get(&cx.key("items").with(1)).await,
                ErrorKind::Backend,
                "failed read"
            ),
        ),
    ];
    for (what, error) in reads {
        let message = error.to_string();
        ensure!(
            !message.contains("written"),
            "{what}: a read's message talks about writing: {message}"
        );
    }

    let version = ensure_some!(cx.db().get(&cx.key("items").with(1)).await?, "written above").version;
    let writes: Vec<(&str, Result<(), Error>)> = vec![
        (
            "a unit with the empty key",
            cx.unit(&[Write::set(cx.key("side"), 1), Write::set(Key::default(), 1)])
                .await
                .map(drop),
        ),
        (
            "a unit with a key over the limit",
            cx.unit(&[Write::set(cx.key("side"), 1), Write::delete(too_long.clone())])
                .await
                .map(drop),
        ),
        (
            "a unit whose check fails",
            cx.unit(&[
                Write::set(cx.key("side"), 1),
                Write::check(cx.key("items").with(1), Some(enginedb::Version(version.0 + 1000))),
            ])
            .await
            .map(drop),
        ),
        (
            "a unit whose sum fails",
            cx.unit(&[Write::set(cx.key("side"), 1), Write::sum(cx.key("items").with(2), 1)])
                .await
                .map(drop),
        ),
        (
            "a unit with an inverted range",
            cx.unit(&[Write::delete_range(Selector::range(cx.key(2), cx.key(1)))])
                .await
                .map(drop),
        ),
        (
            "a single write of the empty key",
            cx.db().write_one(Write::set(Key::default(), 1)).await.map(drop),
        ),
        (
            "a single insert over a key",
            cx.db()
                .write_one(Write::insert(cx.key("items").with(1), 2))
                .await
                .map(drop),
        ),
    ];
    for (what, result) in writes {
        let error = match result {
            Err(error) => error,
            Ok(()) => return Err(CaseError::Failed(format!("{what}: expected an error, got Ok"))),
        };
        let message = error.to_string();
        ensure!(message.ends_with("nothing was written"), "{what}: {message}");
    }
    if cx.mode().is_atomic() {
        let refused = cx
            .db()
            .transact(async |tx| {
                tx.set(cx.key("side"), 1).set(Key::default(), 1);
                Ok::<_, Error>(())
            })
            .await;
        let error = ensure_err!(refused, ErrorKind::InvalidInput, "a transaction with the empty key");
        let message = error.to_string();
        ensure!(
            message.ends_with("nothing was written"),
            "a refused transaction: {message}"
        );
    }
    ensure_eq!(
        cx.db().get(&cx.key("side")).await?,
        None,
        "no refused write wrote anything"
    );
    Ok(())
}
