//! `list`: selectors, order, limits, keyset cursors (DESIGN §3 "Reads").

use enginedb::{Cursor, ErrorKind, Key, ListOptions, Page, Selector, Write};

use super::write_keys;
use crate::{CaseResult, Ctx};

fn keys(page: &Page) -> Vec<Key> {
    page.entries.iter().map(|e| e.key.clone()).collect()
}

fn items(cx: &Ctx<'_>, ids: impl IntoIterator<Item = i64>) -> Vec<Key> {
    ids.into_iter().map(|i| cx.key("items").with(i)).collect()
}

/// Reads every page of `selector` with `limit`, checking each page's size.
async fn all_pages(cx: &Ctx<'_>, selector: &Selector, options: ListOptions) -> Result<Vec<Key>, crate::CaseError> {
    let limit = options.limit;
    let mut options = options;
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = cx.db().list(selector, &options).await?;
        ensure!(
            page.entries.len() <= limit,
            "page of {} over limit {limit}",
            page.entries.len()
        );
        out.extend(keys(&page));
        match page.cursor {
            Some(cursor) => options.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
    Err(crate::CaseError::Failed("paging did not end after 1000 pages".into()))
}

/// `Prefix(p)` does not include the key `p` itself.
pub async fn prefix_excludes_prefix_key(cx: &Ctx<'_>) -> CaseResult {
    let p = cx.key("p");
    write_keys(cx, &[p.clone(), p.clone().with(1), p.clone().with(2)]).await?;
    let page = cx
        .db()
        .list(&Selector::Prefix(p.clone()), &ListOptions::default())
        .await?;
    ensure_eq!(keys(&page), vec![p.clone().with(1), p.with(2)], "prefix children only");
    Ok(())
}

/// `Range` includes its start and excludes its end.
pub async fn range_bounds(cx: &Ctx<'_>) -> CaseResult {
    let all = items(cx, 0..6);
    write_keys(cx, &all).await?;
    let selector = Selector::Range {
        start: cx.key("items").with(1),
        end: cx.key("items").with(4),
    };
    let page = cx.db().list(&selector, &ListOptions::default()).await?;
    ensure_eq!(keys(&page), items(cx, 1..4), "[1, 4)");
    let same = Selector::Range {
        start: cx.key("items").with(2),
        end: cx.key("items").with(2),
    };
    ensure!(
        cx.db().list(&same, &ListOptions::default()).await?.entries.is_empty(),
        "[2, 2) is empty"
    );
    Ok(())
}

/// `PrefixFrom` starts at `start` (inclusive) and stays inside the prefix.
pub async fn prefix_from(cx: &Ctx<'_>) -> CaseResult {
    let mut all = items(cx, 0..5);
    all.push(cx.key("itemz"));
    write_keys(cx, &all).await?;
    let selector = Selector::PrefixFrom {
        prefix: cx.key("items"),
        start: cx.key("items").with(3),
    };
    let page = cx.db().list(&selector, &ListOptions::default()).await?;
    ensure_eq!(keys(&page), items(cx, 3..5), "from 3 to the prefix's end");
    Ok(())
}

/// `reverse` lists in descending order, limit applying from the end.
pub async fn reverse_order(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..5)).await?;
    let page = cx
        .db()
        .list(&Selector::Prefix(cx.key("items")), &ListOptions::limit(3).reversed())
        .await?;
    ensure_eq!(keys(&page), items(cx, [4, 3, 2]), "last three, descending");
    ensure!(page.cursor.is_some(), "more entries follow");
    Ok(())
}

/// Forward pages with a cursor return every key exactly once, in order.
pub async fn pages_cover_all_forward(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..10)).await?;
    let got = all_pages(cx, &Selector::Prefix(cx.key("items")), ListOptions::limit(3)).await?;
    ensure_eq!(got, items(cx, 0..10), "every key once");
    Ok(())
}

/// Reverse pages with a cursor return every key exactly once, descending.
pub async fn pages_cover_all_reverse(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..10)).await?;
    let got = all_pages(cx, &Selector::Prefix(cx.key("items")), ListOptions::limit(4).reversed()).await?;
    ensure_eq!(got, items(cx, (0..10).rev()), "every key once, descending");
    Ok(())
}

/// Resuming is keyset, not offset: keys inserted before the cursor are not returned, keys
/// inserted after it are, deleted ones are not, and nothing repeats.
pub async fn cursor_under_concurrent_inserts(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::Prefix(cx.key("items"));
    write_keys(cx, &items(cx, (0..20).step_by(2))).await?;
    let first = cx.db().list(&selector, &ListOptions::limit(4)).await?;
    ensure_eq!(keys(&first), items(cx, [0, 2, 4, 6]), "first page");
    write_keys(cx, &items(cx, [1, 3, 7, 19])).await?;
    cx.db().write(&Write::delete(cx.key("items").with(8))).await?;
    let rest = all_pages(cx, &selector, ListOptions::limit(4).after(first.cursor)).await?;
    ensure_eq!(
        rest,
        items(cx, [7, 10, 12, 14, 16, 18, 19]),
        "after the cursor, as the data is now"
    );
    Ok(())
}

/// Deleting the last key of a page does not break resuming after it.
pub async fn cursor_survives_deleted_last_key(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::Prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..6)).await?;
    let first = cx.db().list(&selector, &ListOptions::limit(3).reversed()).await?;
    ensure_eq!(keys(&first), items(cx, [5, 4, 3]), "first page, descending");
    cx.db().write(&Write::delete(cx.key("items").with(3))).await?;
    let rest = all_pages(cx, &selector, ListOptions::limit(3).reversed().after(first.cursor)).await?;
    ensure_eq!(rest, items(cx, [2, 1, 0]), "the rest, descending");
    Ok(())
}

/// A page that holds the last entry has no cursor; one followed by more has one.
pub async fn exact_page_has_no_cursor(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::Prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..3)).await?;
    let full = cx.db().list(&selector, &ListOptions::limit(3)).await?;
    ensure_eq!(full.entries.len(), 3, "all three");
    ensure!(full.cursor.is_none(), "nothing follows a page holding the last key");
    let partial = cx.db().list(&selector, &ListOptions::limit(2)).await?;
    ensure!(partial.cursor.is_some(), "one more key follows");
    let last = cx
        .db()
        .list(&selector, &ListOptions::limit(2).after(partial.cursor))
        .await?;
    ensure_eq!(keys(&last), items(cx, [2]), "the last key");
    ensure!(last.cursor.is_none(), "and nothing after it");
    Ok(())
}

/// Selecting nothing gives an empty page without a cursor.
pub async fn empty_selection(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..2)).await?;
    let page = cx
        .db()
        .list(&Selector::Prefix(cx.key("none")), &ListOptions::default())
        .await?;
    ensure!(page.entries.is_empty() && page.cursor.is_none(), "empty page: {page:?}");
    Ok(())
}

/// Bad list requests are refused with the right kind.
pub async fn bad_list_requests(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::Prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..3)).await?;
    let db = cx.db();
    ensure_err!(
        db.list(&selector, &ListOptions::limit(0)).await,
        ErrorKind::InvalidInput,
        "limit 0"
    );
    ensure_err!(
        db.list(&selector, &ListOptions::limit(1001)).await,
        ErrorKind::LimitExceeded,
        "limit 1001"
    );
    let inverted = Selector::Range {
        start: cx.key(2),
        end: cx.key(1),
    };
    ensure_err!(
        db.list(&inverted, &ListOptions::default()).await,
        ErrorKind::InvalidInput,
        "range start > end"
    );
    let outside = Selector::PrefixFrom {
        prefix: cx.key("items"),
        start: cx.key("other"),
    };
    ensure_err!(
        db.list(&outside, &ListOptions::default()).await,
        ErrorKind::InvalidInput,
        "PrefixFrom start outside"
    );
    let page = db.list(&selector, &ListOptions::limit(1)).await?;
    let cursor = ensure_some!(page.cursor, "more than one key");
    let wrong_direction = ListOptions::limit(1).reversed().after(Some(cursor.clone()));
    ensure_err!(
        db.list(&selector, &wrong_direction).await,
        ErrorKind::InvalidInput,
        "cursor used in reverse"
    );
    let elsewhere = ListOptions::limit(1).after(Some(cursor));
    ensure_err!(
        db.list(&Selector::Prefix(cx.key("elsewhere")), &elsewhere).await,
        ErrorKind::InvalidInput,
        "cursor of another selector"
    );
    let garbage = ListOptions::limit(1).after(Some(Cursor::from_bytes(vec![0x77, 1, 2])));
    ensure_err!(
        db.list(&selector, &garbage).await,
        ErrorKind::InvalidInput,
        "garbage cursor"
    );
    Ok(())
}

/// A cursor survives its text form.
pub async fn cursor_text_roundtrip(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::Prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..4)).await?;
    let first = cx.db().list(&selector, &ListOptions::limit(2)).await?;
    let cursor = ensure_some!(first.cursor, "more keys follow");
    let parsed: Cursor = cursor.to_string().parse()?;
    ensure_eq!(parsed, cursor, "parsed cursor");
    let rest = cx
        .db()
        .list(&selector, &ListOptions::limit(2).after(Some(parsed)))
        .await?;
    ensure_eq!(keys(&rest), items(cx, [2, 3]), "resumed from the parsed cursor");
    Ok(())
}

/// Listed values and versions are exactly what `get` returns.
pub async fn entries_match_get(cx: &Ctx<'_>) -> CaseResult {
    cx.unit(&[Write::set(cx.key("a"), "x"), Write::set(cx.key("b"), 5)])
        .await?;
    cx.db().write(&Write::sum(cx.key("b"), 1)).await?;
    let page = cx
        .db()
        .list(&Selector::Prefix(cx.root().clone()), &ListOptions::default())
        .await?;
    ensure_eq!(page.entries.len(), 2, "two entries");
    for entry in page.entries {
        let got = cx.db().get(&entry.key).await?;
        ensure_eq!(got, Some(entry.clone()), "list and get agree on {}", entry.key);
    }
    Ok(())
}
