//! Contributions: a catalogue written once against [`Db`].
//!
//! A contribution is discoverable three ways besides its id — by tag, by search term (the
//! words of its title) and by relation (what it cites). Written as separate writes, a crash
//! leaves a record fetchable by id but invisible to search, or a tag marker pointing at nothing.
//! Here a **put** is one transaction: it reads the manifest, and writes the manifest, the
//! relation entries, the tag markers and the term entries — and, for an update, removes the
//! previous markers. A concurrent put of the same contribution makes it run again on what that
//! one wrote. Listing by tag or term therefore never sees a half-written contribution.
//!
//! | key                                           | value                         |
//! |-----------------------------------------------|-------------------------------|
//! | `("contrib", "manifest", id)`                 | title, tags, cited ids        |
//! | `("contrib", "cites", cited, id)`             | empty (relation index)        |
//! | `("contrib", "tag", tag, id)`                 | empty (tag marker)            |
//! | `("contrib", "term", term, id)`               | empty (search term)           |

use enginedb::{Commit, Db, Error, Key, KeyPart, Result, Selector, Value, key};

/// A contribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// Its id.
    pub id: String,
    /// Its title; its words are its search terms.
    pub title: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The ids it cites.
    pub cites: Vec<String>,
}

impl Contribution {
    /// The search terms: the title's words, lower-cased, without duplicates.
    pub fn terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = self
            .title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        terms.sort();
        terms.dedup();
        terms
    }

    fn encode(&self) -> Vec<u8> {
        format!("{}\n{}\n{}", self.title, self.tags.join(","), self.cites.join(",")).into_bytes()
    }

    fn decode(id: &str, value: &Value) -> Result<Contribution> {
        let corrupt = || Error::Corrupt {
            message: format!("contribution {id:?} is not title, tags, cites"),
        };
        let text = value.as_str().ok_or_else(corrupt)?;
        let mut lines = text.splitn(3, '\n');
        let (Some(title), Some(tags), Some(cites)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(corrupt());
        };
        let list = |s: &str| s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect();
        Ok(Contribution {
            id: id.to_owned(),
            title: title.to_owned(),
            tags: list(tags),
            cites: list(cites),
        })
    }

    /// Every index entry of this contribution.
    fn index(&self) -> Vec<Key> {
        let id = self.id.as_str();
        let mut keys: Vec<Key> = self
            .cites
            .iter()
            .map(|c| key!["contrib", "cites", c.as_str(), id])
            .collect();
        keys.extend(self.tags.iter().map(|t| key!["contrib", "tag", t.as_str(), id]));
        keys.extend(self.terms().iter().map(|t| key!["contrib", "term", t.as_str(), id]));
        keys
    }
}

fn manifest(id: &str) -> Key {
    key!["contrib", "manifest", id]
}

/// The catalogue on a store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Catalogue {
    db: Db,
}

impl Catalogue {
    /// A catalogue on `db`.
    pub fn new(db: Db) -> Self {
        Catalogue { db }
    }

    /// Creates or replaces a contribution with all its index entries, in one transaction (run
    /// again if another writer changed the contribution meanwhile); returns its commit.
    ///
    /// # Errors
    /// `InvalidInput` for an empty id; `Corrupt` for a malformed stored manifest; the store's
    /// errors (`Unsupported` on a store that cannot write a unit atomically: a put is never
    /// half-done).
    pub async fn put(&self, contribution: &Contribution) -> Result<Commit> {
        if contribution.id.is_empty() {
            return Err(Error::invalid("a contribution needs an id"));
        }
        // Owned, so the body may run again and `put` stays `Send` (it runs in spawned tasks).
        let next = contribution.clone();
        let done = self
            .db
            .transaction()
            .run(async move |tx| {
                let key = manifest(&next.id);
                if let Some(previous) = tx.get(&key).await? {
                    for old in Contribution::decode(&next.id, &previous.value)?.index() {
                        tx.delete(old);
                    }
                }
                tx.set(key, next.encode());
                for entry in next.index() {
                    tx.set(entry, Vec::new());
                }
                Ok::<_, Error>(())
            })
            .await?;
        Ok(done.commit)
    }

    /// The contribution `id`.
    ///
    /// # Errors
    /// The store's, or `Corrupt`.
    pub async fn get(&self, id: &str) -> Result<Option<Contribution>> {
        self.db
            .get(&manifest(id))
            .await?
            .map(|e| Contribution::decode(id, &e.value))
            .transpose()
    }

    /// The ids tagged `tag`, in id order.
    ///
    /// # Errors
    /// The store's.
    pub async fn by_tag(&self, tag: &str) -> Result<Vec<String>> {
        self.ids(key!["contrib", "tag", tag]).await
    }

    /// The ids whose title has the word `term`, in id order.
    ///
    /// # Errors
    /// The store's.
    pub async fn by_term(&self, term: &str) -> Result<Vec<String>> {
        self.ids(key!["contrib", "term", term.to_lowercase()]).await
    }

    /// The ids that cite `id`, in id order.
    ///
    /// # Errors
    /// The store's.
    pub async fn cited_by(&self, id: &str) -> Result<Vec<String>> {
        self.ids(key!["contrib", "cites", id]).await
    }

    async fn ids(&self, prefix: Key) -> Result<Vec<String>> {
        let entries = self.db.list(Selector::prefix(prefix)).collect().await?;
        Ok(entries
            .into_iter()
            .filter_map(|e| match e.key.parts().last() {
                Some(KeyPart::Str(id)) => Some(id.clone()),
                _ => None,
            })
            .collect())
    }
}
