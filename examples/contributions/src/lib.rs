//! Contributions: a catalogue written once against `&dyn EngineDb`.
//!
//! A contribution is discoverable three ways besides its id — by tag, by search term (the
//! words of its title) and by relation (what it cites). Written as separate writes, a crash
//! leaves a record fetchable by id but invisible to search, or a tag marker pointing at nothing.
//! Here a **put** is one unit: the manifest, the relation entries, the tag markers and the term
//! entries — and, for an update, the removal of the previous markers, on condition that the
//! manifest is still the version read. Listing by tag or term therefore never sees a
//! half-written contribution.
//!
//! | key                                           | value                         |
//! |-----------------------------------------------|-------------------------------|
//! | `("contrib", "manifest", id)`                 | title, tags, cited ids        |
//! | `("contrib", "cites", cited, id)`             | empty (relation index)        |
//! | `("contrib", "tag", tag, id)`                 | empty (tag marker)            |
//! | `("contrib", "term", term, id)`               | empty (search term)           |

use enginedb::{
    Atomicity, Commit, EngineDb, Error, Key, KeyPart, ListOptions, Result, Selector, Value, Write, key,
    run_atomic_writes,
};

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

    fn decode(id: &str, value: Value) -> Result<Contribution> {
        let corrupt = || Error::Corrupt {
            message: format!("contribution {id:?} is not title, tags, cites"),
        };
        let Value::Bytes(bytes) = value else {
            return Err(corrupt());
        };
        let text = String::from_utf8(bytes).map_err(|_| corrupt())?;
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

/// The catalogue on a store.
pub struct Catalogue<'db> {
    db: &'db dyn EngineDb,
}

impl<'db> Catalogue<'db> {
    /// A catalogue on `db`.
    pub fn new(db: &'db dyn EngineDb) -> Self {
        Catalogue { db }
    }

    /// Creates or replaces a contribution with all its index entries, as one unit that fails
    /// with `CheckFailed` if the contribution changed since it was read.
    ///
    /// # Errors
    /// `InvalidInput` for an empty id; the store's errors (`Unsupported` on a store that cannot
    /// write a unit atomically: a put is never half-done).
    pub async fn put(&self, contribution: &Contribution) -> Result<Commit> {
        if contribution.id.is_empty() {
            return Err(Error::invalid("a contribution needs an id"));
        }
        let previous = self.db.get(&manifest(&contribution.id)).await?;
        let mut unit = vec![Write::check(
            manifest(&contribution.id),
            previous.as_ref().map(|e| e.version),
        )];
        if let Some(previous) = previous {
            let old = Contribution::decode(&contribution.id, previous.value)?;
            unit.extend(old.index().into_iter().map(Write::delete));
        }
        unit.push(Write::set(manifest(&contribution.id), contribution.encode()));
        unit.extend(contribution.index().into_iter().map(|k| Write::set(k, vec![])));
        run_atomic_writes(self.db, &unit, Atomicity::Require).await
    }

    /// The contribution `id`.
    ///
    /// # Errors
    /// The store's, or `Corrupt`.
    pub async fn get(&self, id: &str) -> Result<Option<Contribution>> {
        self.db
            .get(&manifest(id))
            .await?
            .map(|e| Contribution::decode(id, e.value))
            .transpose()
    }

    /// The ids tagged `tag` (at most 1,000), in id order.
    ///
    /// # Errors
    /// The store's.
    pub async fn by_tag(&self, tag: &str) -> Result<Vec<String>> {
        self.ids(key!["contrib", "tag", tag]).await
    }

    /// The ids whose title has the word `term` (at most 1,000), in id order.
    ///
    /// # Errors
    /// The store's.
    pub async fn by_term(&self, term: &str) -> Result<Vec<String>> {
        self.ids(key!["contrib", "term", term.to_lowercase()]).await
    }

    /// The ids that cite `id` (at most 1,000), in id order.
    ///
    /// # Errors
    /// The store's.
    pub async fn cited_by(&self, id: &str) -> Result<Vec<String>> {
        self.ids(key!["contrib", "cites", id]).await
    }

    async fn ids(&self, prefix: Key) -> Result<Vec<String>> {
        let page = self.db.list(&Selector::Prefix(prefix), &ListOptions::default()).await?;
        Ok(page
            .entries
            .into_iter()
            .filter_map(|e| match e.key.parts().last() {
                Some(KeyPart::Str(id)) => Some(id.clone()),
                _ => None,
            })
            .collect())
    }
}
