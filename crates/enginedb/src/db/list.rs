//! [`List`]: a request for the keys a selector covers, read a page at a time or as a stream.

use futures::{Stream, TryStreamExt, stream};

use crate::error::{Error, Result};
use crate::library;
use crate::model::{Cursor, Entry, ListOptions, Page, Selector};
use crate::port::ListPlan;
use crate::tx::Tx;

use super::Db;

enum Source<'a> {
    Db(&'a Db),
    Tx(&'a mut Tx),
}

impl Source<'_> {
    /// One page of `selector`, around the library's keys unless the source sees them.
    async fn page(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let sees_library = match self {
            Source::Db(db) => db.sees_library(),
            Source::Tx(tx) => tx.sees_library(),
        };
        match library::around(selector).filter(|_| !sees_library) {
            Some((below, above)) => {
                ListPlan::new(selector, options)?;
                self.page_around(below, above, options).await
            }
            None => self.read(selector, options).await,
        }
    }

    async fn read(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        match self {
            Source::Db(db) => db.page(selector, options).await,
            Source::Tx(tx) => tx.page(selector, options).await,
        }
    }

    /// One page of the keys of `below` and `above` (what a selector holds outside the
    /// library's keys), in the order `options` asks: the cursor, which lies in one of them,
    /// says where to resume.
    async fn page_around(&mut self, below: Selector, above: Selector, options: &ListOptions) -> Result<Page> {
        let (first, second) = if options.reverse {
            (above, below)
        } else {
            (below, above)
        };
        let in_second = match &options.cursor {
            Some(cursor) => second.byte_range()?.contains(cursor.position()?.0),
            None => false,
        };
        let second_options = |limit| ListOptions {
            limit,
            cursor: None,
            reverse: options.reverse,
        };
        if in_second || first.byte_range()?.is_empty() {
            let options = if in_second {
                options.clone()
            } else {
                second_options(options.limit)
            };
            return self.read_unless_empty(&second, &options).await;
        }
        let mut page = self.read(&first, options).await?;
        if page.cursor.is_some() {
            return Ok(page);
        }
        // `first` is done: fill the page from `second`, or peek there for the cursor.
        let room = options.limit.saturating_sub(page.entries.len());
        let rest = self.read_unless_empty(&second, &second_options(room.max(1))).await?;
        match (room, page.entries.last()) {
            (0, Some(last)) if !rest.entries.is_empty() => {
                page.cursor = Some(Cursor::after_key(last.key.as_bytes(), options.reverse));
            }
            (0, _) => {}
            _ => {
                page.entries.extend(rest.entries);
                page.cursor = rest.cursor;
            }
        }
        Ok(page)
    }

    async fn read_unless_empty(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        if selector.byte_range()?.is_empty() {
            return Ok(Page {
                entries: Vec::new(),
                cursor: None,
            });
        }
        self.read(selector, options).await
    }
}

/// Whether `next` lies past `previous` in the listing's direction (a store that answers
/// otherwise would have a stream page for ever).
fn advances(previous: Option<&Cursor>, next: &Cursor, reverse: bool) -> bool {
    let position = |cursor: &Cursor| cursor.position().ok().map(|(key, _)| key.to_vec());
    match previous.map(position) {
        None => true,
        Some(previous) if reverse => position(next) < previous,
        Some(previous) => position(next) > previous,
    }
}

impl Db {
    /// The keys `selector` covers, in pages or as a stream: see [`List`].
    pub fn list(&self, selector: Selector) -> List<'_> {
        List::new(Source::Db(self), selector)
    }
}

impl Tx {
    /// The keys `selector` covers, as this transaction sees them: see [`List`].
    pub fn list(&mut self, selector: Selector) -> List<'_> {
        List::new(Source::Tx(self), selector)
    }
}

/// The keys a [`Selector`] covers, in key order (or reversed), from [`Db::list`] or
/// [`Tx::list`]: one [`Page`] at a time with a resumable cursor, or every entry as a stream.
#[must_use = "a list reads nothing until `page` or `stream` is called"]
pub struct List<'a> {
    source: Source<'a>,
    selector: Selector,
    options: ListOptions,
}

impl<'a> List<'a> {
    fn new(source: Source<'a>, selector: Selector) -> Self {
        List {
            source,
            selector,
            options: ListOptions::default(),
        }
    }

    /// At most `limit` entries a page (1 to [`crate::limits::MAX_LIST_LIMIT`], the default).
    pub fn limit(mut self, limit: usize) -> Self {
        self.options.limit = limit;
        self
    }

    /// Descending key order.
    pub fn reverse(mut self) -> Self {
        self.options.reverse = true;
        self
    }

    /// Resumes after the last entry of an earlier page of the same selector and direction
    /// (`None`: from the start).
    pub fn after(mut self, cursor: impl Into<Option<Cursor>>) -> Self {
        self.options.cursor = cursor.into();
        self
    }

    /// One page; its cursor is present when more entries followed it at read time.
    ///
    /// # Errors
    /// `InvalidInput` for a bad selector, a zero limit, or a cursor of another selector or
    /// direction; `LimitExceeded` for a limit over the maximum; `Corrupt` for stored bytes that
    /// do not decode; the store's errors.
    pub async fn page(mut self) -> Result<Page> {
        self.source.page(&self.selector, &self.options).await
    }

    /// Every entry, page after page (of the limit's size), as a stream that ends after the
    /// last one — or after the first error: a failed read is an error, never a short list.
    pub fn stream(self) -> impl Stream<Item = Result<Entry>> + 'a {
        let List {
            source,
            selector,
            options,
        } = self;
        let pages = stream::try_unfold(Some((source, options)), move |state| {
            let selector = selector.clone();
            async move {
                let Some((mut source, mut options)) = state else {
                    return Ok(None);
                };
                let page = source.page(&selector, &options).await?;
                let next = match page.cursor {
                    Some(cursor) if !advances(options.cursor.as_ref(), &cursor, options.reverse) => {
                        return Err(Error::Corrupt {
                            message: format!("listing {selector} returned a cursor that does not move on"),
                        });
                    }
                    Some(cursor) => {
                        options.cursor = Some(cursor);
                        Some((source, options))
                    }
                    None => None,
                };
                Ok(Some((stream::iter(page.entries.into_iter().map(Ok)), next)))
            }
        });
        pages.try_flatten()
    }

    /// Every entry, read page after page into one `Vec`.
    ///
    /// # Errors
    /// As [`List::page`], for any page.
    pub async fn collect(self) -> Result<Vec<Entry>> {
        self.stream().try_collect().await
    }
}
