//! [`List`]: a request for the keys a selector covers, read a page at a time or as a stream.

use futures::{Stream, TryStreamExt, stream};

use crate::error::{Error, Result};
use crate::model::{Cursor, Entry, ListOptions, Page, Selector};
use crate::tx::Tx;

use super::Db;

enum Source<'a> {
    Db(&'a Db),
    Tx(&'a mut Tx),
}

impl Source<'_> {
    async fn page(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        match self {
            Source::Db(db) => db.page(selector, options).await,
            Source::Tx(tx) => tx.page(selector, options).await,
        }
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
                    Some(cursor) if options.cursor.as_ref() == Some(&cursor) => {
                        return Err(Error::Corrupt {
                            message: format!("listing {selector} returned the same cursor twice"),
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
