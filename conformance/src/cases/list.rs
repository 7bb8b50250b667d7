//! `list`: selectors, order, limits, keyset cursors (DESIGN §3 "Reads").

use enginedb::{Cursor, ErrorKind, Key, Page, Selector, Write};

use super::write_keys;
use crate::{CaseResult, Ctx};

fn keys(page: &Page) -> Vec<Key> {
    page.entries.iter().map(|e| e.key.clone()).collect()
}

fn items(cx: &Ctx<'_>, ids: impl IntoIterator<Item = i64>) -> Vec<Key> {
    ids.into_iter().map(|i| cx.key("items").with(i)).collect()
}

/// How to page: at most `limit` entries a page, descending if `reverse`, resuming after
/// `cursor`.
#[derive(Clone, Debug)]
struct Paging {
    limit: usize,
    reverse: bool,
    cursor: Option<Cursor>,
}

impl Paging {
    fn limit(limit: usize) -> Self {
        Paging {
            limit,
            reverse: false,
            cursor: None,
        }
    }

    fn reversed(mut self) -> Self {
        self.reverse = true;
        self
    }

    fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of `selector`.
async fn page(cx: &Ctx<'_>, selector: &Selector, paging: &Paging) -> enginedb::Result<Page> {
    let list = cx
        .db()
        .list(selector.clone())
        .limit(paging.limit)
        .after(paging.cursor.clone());
    if paging.reverse {
        list.reverse().page().await
    } else {
        list.page().await
    }
}

/// Reads every page of `selector`, checking each page's size.
async fn all_pages(cx: &Ctx<'_>, selector: &Selector, paging: Paging) -> Result<Vec<Key>, crate::CaseError> {
    let limit = paging.limit;
    let mut paging = paging;
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = page(cx, selector, &paging).await?;
        ensure!(
            page.entries.len() <= limit,
            "page of {} over limit {limit}",
            page.entries.len()
        );
        out.extend(keys(&page));
        match page.cursor {
            Some(cursor) => paging.cursor = Some(cursor),
            None => return Ok(out),
        }
    }
    Err(crate::CaseError::Failed("paging did not end after 1000 pages".into()))
}

/// `Selector::prefix(p)` does not include the key `p` itself.
pub async fn prefix_excludes_prefix_key(cx: &Ctx<'_>) -> CaseResult {
    let p = cx.key("p");
    write_keys(cx, &[p.clone(), p.clone().with(1), p.clone().with(2)]).await?;
    let page = cx.db().list(Selector::prefix(p.clone())).page().await?;
    ensure_eq!(keys(&page), vec![p.clone().with(1), p.with(2)], "prefix children only");
    Ok(())
}

/// `Range` includes its start and excludes its end.
pub async fn range_bounds(cx: &Ctx<'_>) -> CaseResult {
    let all = items(cx, 0..6);
    write_keys(cx, &all).await?;
    let selector = Selector::range(cx.key("items").with(1), cx.key("items").with(4));
    let page = cx.db().list(selector).page().await?;
    ensure_eq!(keys(&page), items(cx, 1..4), "[1, 4)");
    let same = Selector::range(cx.key("items").with(2), cx.key("items").with(2));
    ensure!(cx.db().list(same).page().await?.entries.is_empty(), "[2, 2) is empty");
    Ok(())
}

/// `Selector::prefix(p).start(s)` starts at `s` (inclusive) and stays inside the prefix.
pub async fn prefix_from(cx: &Ctx<'_>) -> CaseResult {
    let mut all = items(cx, 0..5);
    all.push(cx.key("itemz"));
    write_keys(cx, &all).await?;
    let selector = Selector::prefix(cx.key("items")).start(cx.key("items").with(3));
    let page = cx.db().list(selector).page().await?;
    ensure_eq!(keys(&page), items(cx, 3..5), "from 3 to the prefix's end");
    Ok(())
}

/// `Selector::prefix(p).start(a).end(b)` holds the keys of the prefix from `a` (included) to
/// `b` (excluded), forward and reverse, paged with cursors that stop at the bounds although
/// keys follow beyond them; either bound alone works; a bound outside the prefix, or a start
/// after the end, is invalid input; an end at the prefix itself selects nothing.
pub async fn prefix_bounded_by_start_and_end(cx: &Ctx<'_>) -> CaseResult {
    let p = cx.key("items");
    let (text, yes) = (p.clone().with("text"), p.clone().with(true));
    let mut all = items(cx, 0..10);
    all.extend([p.clone(), cx.key("itema"), cx.key("itemz"), text.clone(), yes.clone()]);
    write_keys(cx, &all).await?;
    let item = |i: i64| p.clone().with(i);
    let bounded = Selector::prefix(p.clone()).start(item(3)).end(item(7));

    let forward = cx.db().list(bounded.clone()).page().await?;
    ensure_eq!(keys(&forward), items(cx, 3..7), "[3, 7) forward");
    ensure!(forward.cursor.is_none(), "nothing follows inside the bounds");
    let reverse = cx.db().list(bounded.clone()).reverse().page().await?;
    ensure_eq!(keys(&reverse), items(cx, (3..7).rev()), "[3, 7) reverse");
    ensure!(reverse.cursor.is_none(), "nothing follows inside the bounds, reversed");

    // Pages that end at a bound have no cursor though keys lie beyond it.
    ensure_eq!(
        all_pages(cx, &bounded, Paging::limit(2)).await?,
        items(cx, 3..7),
        "pages of 2 forward"
    );
    ensure_eq!(
        all_pages(cx, &bounded, Paging::limit(3).reversed()).await?,
        items(cx, (3..7).rev()),
        "pages of 3 reverse"
    );
    let first = page(cx, &bounded, &Paging::limit(3)).await?;
    ensure_eq!(keys(&first), items(cx, 3..6), "first page of 3");
    let last = page(cx, &bounded, &Paging::limit(3).after(first.cursor)).await?;
    ensure_eq!(keys(&last), items(cx, [6]), "resumed up to the end bound");
    ensure!(last.cursor.is_none(), "no cursor past the end bound");
    let exact = page(cx, &bounded, &Paging::limit(4)).await?;
    ensure!(exact.cursor.is_none(), "a page ending at the end bound has no cursor");
    let exact = page(cx, &bounded, &Paging::limit(4).reversed()).await?;
    ensure!(exact.cursor.is_none(), "a page ending at the start bound has no cursor");
    let first = page(cx, &bounded, &Paging::limit(3).reversed()).await?;
    let last = page(cx, &bounded, &Paging::limit(3).reversed().after(first.cursor)).await?;
    ensure_eq!(keys(&last), items(cx, [3]), "resumed down to the start bound");
    ensure!(last.cursor.is_none(), "no cursor past the start bound");

    // One bound at a time (a `Str` part sorts before every `Int`, a `Bool` after).
    let below = Selector::prefix(p.clone()).end(item(2));
    ensure_eq!(
        all_pages(cx, &below, Paging::limit(1)).await?,
        vec![text.clone(), item(0), item(1)],
        "from the prefix's start up to 2"
    );
    let from = Selector::prefix(p.clone()).start(item(8));
    ensure_eq!(
        all_pages(cx, &from, Paging::limit(2)).await?,
        vec![item(8), item(9), yes.clone()],
        "from 8 to the prefix's end, and no further"
    );
    ensure_eq!(
        all_pages(cx, &from, Paging::limit(2).reversed()).await?,
        vec![yes.clone(), item(9), item(8)],
        "from the prefix's end down to 8"
    );
    let whole = Selector::prefix(p.clone()).start(p.clone());
    let mut expected = vec![text];
    expected.extend(items(cx, 0..10));
    expected.push(yes);
    ensure_eq!(
        all_pages(cx, &whole, Paging::limit(4)).await?,
        expected,
        "a start at the prefix itself: every extension, not the prefix key"
    );

    // An end at the prefix itself selects nothing.
    let nothing = Selector::prefix(p.clone()).end(p.clone());
    for paging in [Paging::limit(5), Paging::limit(5).reversed()] {
        let page = page(cx, &nothing, &paging).await?;
        ensure!(
            page.entries.is_empty() && page.cursor.is_none(),
            "an end at the prefix itself ({paging:?}): {page:?}"
        );
    }

    // Bounds outside the prefix, and inverted bounds, are refused.
    let refused = [
        Selector::prefix(p.clone()).start(cx.key("itemz")),
        Selector::prefix(p.clone()).start(cx.key("itema")),
        Selector::prefix(p.clone()).end(cx.key("itemz")),
        Selector::prefix(p.clone()).end(cx.root().clone()),
        Selector::prefix(p.clone()).start(item(1)).end(cx.key("other")),
        Selector::prefix(p.clone()).start(item(7)).end(item(3)),
    ];
    for selector in refused {
        let error = ensure_err!(
            cx.db().list(selector.clone()).page().await,
            ErrorKind::InvalidInput,
            "{selector}"
        );
        ensure!(!error.to_string().contains("written"), "a read's error: {error}");
    }
    Ok(())
}

/// `reverse` lists in descending order, limit applying from the end.
pub async fn reverse_order(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..5)).await?;
    let page = cx
        .db()
        .list(Selector::prefix(cx.key("items")))
        .limit(3)
        .reverse()
        .page()
        .await?;
    ensure_eq!(keys(&page), items(cx, [4, 3, 2]), "last three, descending");
    ensure!(page.cursor.is_some(), "more entries follow");
    Ok(())
}

/// Forward pages with a cursor return every key exactly once, in order.
pub async fn pages_cover_all_forward(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..10)).await?;
    let got = all_pages(cx, &Selector::prefix(cx.key("items")), Paging::limit(3)).await?;
    ensure_eq!(got, items(cx, 0..10), "every key once");
    Ok(())
}

/// Reverse pages with a cursor return every key exactly once, descending.
pub async fn pages_cover_all_reverse(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..10)).await?;
    let got = all_pages(cx, &Selector::prefix(cx.key("items")), Paging::limit(4).reversed()).await?;
    ensure_eq!(got, items(cx, (0..10).rev()), "every key once, descending");
    Ok(())
}

/// Resuming is keyset, not offset: keys inserted before the cursor are not returned, keys
/// inserted after it are, deleted ones are not, and nothing repeats.
pub async fn cursor_under_concurrent_inserts(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::prefix(cx.key("items"));
    write_keys(cx, &items(cx, (0..20).step_by(2))).await?;
    let first = page(cx, &selector, &Paging::limit(4)).await?;
    ensure_eq!(keys(&first), items(cx, [0, 2, 4, 6]), "first page");
    write_keys(cx, &items(cx, [1, 3, 7, 19])).await?;
    cx.db().write_one(Write::delete(cx.key("items").with(8))).await?;
    let rest = all_pages(cx, &selector, Paging::limit(4).after(first.cursor)).await?;
    ensure_eq!(
        rest,
        items(cx, [7, 10, 12, 14, 16, 18, 19]),
        "after the cursor, as the data is now"
    );
    Ok(())
}

/// Deleting the last key of a page does not break resuming after it.
pub async fn cursor_survives_deleted_last_key(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..6)).await?;
    let first = page(cx, &selector, &Paging::limit(3).reversed()).await?;
    ensure_eq!(keys(&first), items(cx, [5, 4, 3]), "first page, descending");
    cx.db().write_one(Write::delete(cx.key("items").with(3))).await?;
    let rest = all_pages(cx, &selector, Paging::limit(3).reversed().after(first.cursor)).await?;
    ensure_eq!(rest, items(cx, [2, 1, 0]), "the rest, descending");
    Ok(())
}

/// A page that holds the last entry has no cursor; one followed by more has one.
pub async fn exact_page_has_no_cursor(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..3)).await?;
    let full = page(cx, &selector, &Paging::limit(3)).await?;
    ensure_eq!(full.entries.len(), 3, "all three");
    ensure!(full.cursor.is_none(), "nothing follows a page holding the last key");
    let partial = page(cx, &selector, &Paging::limit(2)).await?;
    ensure!(partial.cursor.is_some(), "one more key follows");
    let last = page(cx, &selector, &Paging::limit(2).after(partial.cursor)).await?;
    ensure_eq!(keys(&last), items(cx, [2]), "the last key");
    ensure!(last.cursor.is_none(), "and nothing after it");
    Ok(())
}

/// Selecting nothing gives an empty page without a cursor.
pub async fn empty_selection(cx: &Ctx<'_>) -> CaseResult {
    write_keys(cx, &items(cx, 0..2)).await?;
    let page = cx.db().list(Selector::prefix(cx.key("none"))).page().await?;
    ensure!(page.entries.is_empty() && page.cursor.is_none(), "empty page: {page:?}");
    Ok(())
}

/// Bad list requests are refused with the right kind.
pub async fn bad_list_requests(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..3)).await?;
    ensure_err!(
        page(cx, &selector, &Paging::limit(0)).await,
        ErrorKind::InvalidInput,
        "limit 0"
    );
    ensure_err!(
        page(cx, &selector, &Paging::limit(1001)).await,
        ErrorKind::LimitExceeded,
        "limit 1001"
    );
    let inverted = Selector::range(cx.key(2), cx.key(1));
    ensure_err!(
        cx.db().list(inverted).page().await,
        ErrorKind::InvalidInput,
        "range start > end"
    );
    let outside = Selector::prefix(cx.key("items")).start(cx.key("other"));
    ensure_err!(
        cx.db().list(outside).page().await,
        ErrorKind::InvalidInput,
        "prefix start outside"
    );
    let page1 = page(cx, &selector, &Paging::limit(1)).await?;
    let cursor = ensure_some!(page1.cursor, "more than one key");
    let wrong_direction = Paging::limit(1).reversed().after(Some(cursor.clone()));
    ensure_err!(
        page(cx, &selector, &wrong_direction).await,
        ErrorKind::InvalidInput,
        "cursor used in reverse"
    );
    let elsewhere = Paging::limit(1).after(Some(cursor));
    ensure_err!(
        page(cx, &Selector::prefix(cx.key("elsewhere")), &elsewhere).await,
        ErrorKind::InvalidInput,
        "cursor of another selector"
    );
    let garbage = Paging::limit(1).after(Some(Cursor::from_bytes(vec![0x77, 1, 2])));
    ensure_err!(
        page(cx, &selector, &garbage).await,
        ErrorKind::InvalidInput,
        "garbage cursor"
    );
    Ok(())
}

/// A cursor survives its text form.
pub async fn cursor_text_roundtrip(cx: &Ctx<'_>) -> CaseResult {
    let selector = Selector::prefix(cx.key("items"));
    write_keys(cx, &items(cx, 0..4)).await?;
    let first = page(cx, &selector, &Paging::limit(2)).await?;
    let cursor = ensure_some!(first.cursor, "more keys follow");
    let parsed: Cursor = cursor.to_string().parse()?;
    ensure_eq!(parsed, cursor, "parsed cursor");
    let rest = page(cx, &selector, &Paging::limit(2).after(Some(parsed))).await?;
    ensure_eq!(keys(&rest), items(cx, [2, 3]), "resumed from the parsed cursor");
    Ok(())
}

/// Listed values and versions are exactly what `get` returns.
pub async fn entries_match_get(cx: &Ctx<'_>) -> CaseResult {
    cx.unit(&[Write::set(cx.key("a"), "x"), Write::set(cx.key("b"), 5)])
        .await?;
    cx.db().write_one(Write::sum(cx.key("b"), 1)).await?;
    let page = cx.db().list(Selector::prefix(cx.root().clone())).page().await?;
    ensure_eq!(page.entries.len(), 2, "two entries");
    for entry in page.entries {
        let got = cx.db().get(&entry.key).await?;
        ensure_eq!(got, Some(entry.clone()), "list and get agree on {}", entry.key);
    }
    Ok(())
}
