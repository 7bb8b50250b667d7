//! The optimistic transaction `transact` runs on batch-only adapters: reads recorded, writes
//! buffered, commit = one atomic batch whose preconditions re-check everything read.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::commit::{Commit, Mode};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::MAX_LIST_LIMIT;
use crate::model::{ByteRange, Entry, ListOptions, Page, Selector, Write};
use crate::port::{CounterOp, EngineDb, ListPlan, successor, update_counter};
use crate::validate::validate_unit;
use crate::value::Value;
use crate::version::Version;

/// A span that was listed, and its fingerprint when read.
struct RangeRead {
    range: ByteRange,
    count: u64,
    max_version: Option<Version>,
}

pub(crate) struct Optimistic {
    db: Arc<dyn EngineDb>,
    /// Version (or absence) of each committed key read, at its first read.
    reads: BTreeMap<Vec<u8>, (Key, Option<Version>)>,
    ranges: Vec<RangeRead>,
    writes: Vec<Write>,
    /// This transaction's own writes: encoded key → value (`None`: deleted).
    overlay: BTreeMap<Vec<u8>, (Key, Option<Value>)>,
    /// Spans cleared by this transaction's `DeleteRange`s (later writes live in `overlay`).
    cleared: Vec<ByteRange>,
}

impl Optimistic {
    pub(crate) fn new(db: Arc<dyn EngineDb>) -> Self {
        Optimistic {
            db,
            reads: BTreeMap::new(),
            ranges: Vec::new(),
            writes: Vec::new(),
            overlay: BTreeMap::new(),
            cleared: Vec::new(),
        }
    }

    /// What this transaction wrote at `encoded`: `Some(None)` for deleted, `None` if untouched.
    fn own(&self, encoded: &[u8]) -> Option<Option<Entry>> {
        if let Some((key, value)) = self.overlay.get(encoded) {
            return Some(value.clone().map(|value| Entry {
                key: key.clone(),
                value,
                version: Version::PENDING,
            }));
        }
        self.cleared.iter().any(|r| r.contains(encoded)).then_some(None)
    }

    fn record(&mut self, key: &Key, entry: &Option<Entry>) {
        self.reads
            .entry(key.encode())
            .or_insert_with(|| (key.clone(), entry.as_ref().map(|e| e.version)));
    }

    pub(crate) async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        Ok(self.get_many(std::slice::from_ref(key)).await?.pop().flatten())
    }

    pub(crate) async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        let missing: Vec<Key> = keys
            .iter()
            .filter(|k| self.own(k.as_bytes()).is_none())
            .cloned()
            .collect();
        let mut fetched = self.db.get_many(&missing).await?.into_iter();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let entry = match self.own(key.as_bytes()) {
                Some(own) => own,
                None => {
                    let entry = fetched.next().flatten();
                    self.record(key, &entry);
                    entry
                }
            };
            out.push(entry);
        }
        Ok(out)
    }

    /// Merges this transaction's own writes into committed pages of `selector`, and records
    /// the fingerprint of the committed span actually read.
    pub(crate) async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        let mut own: Vec<Vec<u8>> = self
            .overlay
            .range(plan.range.start.clone()..)
            .map(|(k, _)| k.clone())
            .take_while(|k| plan.range.contains(k))
            .collect();
        if plan.reverse {
            own.reverse();
        }
        let mut own = own.into_iter().peekable();
        let mut base = VecDeque::new();
        let mut base_options = ListOptions {
            limit: plan.fetch().min(MAX_LIST_LIMIT),
            ..options.clone()
        };
        let mut exhausted = false;
        let mut read = RangeRead {
            range: plan.range.clone(),
            count: 0,
            max_version: None,
        };
        let mut last_read = None;
        let mut merged: Vec<Entry> = Vec::new();
        while merged.len() < plan.fetch() {
            if base.is_empty() && !exhausted {
                let page = self.db.list(selector, &base_options).await?;
                for entry in page.entries {
                    read.count += 1;
                    read.max_version = read.max_version.max(Some(entry.version));
                    let encoded = entry.key.encode();
                    last_read = Some(encoded.clone());
                    base.push_back((encoded, entry));
                }
                exhausted = page.cursor.is_none();
                base_options.cursor = page.cursor;
            }
            let own_first = match (own.peek(), base.front()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(o), Some((b, _))) => o == b || (o < b) != plan.reverse,
            };
            if own_first {
                let Some(encoded) = own.next() else { break };
                if base.front().is_some_and(|(b, _)| *b == encoded) {
                    base.pop_front();
                }
                merged.extend(self.own(&encoded).flatten());
            } else if let Some((encoded, entry)) = base.pop_front()
                && self.own(&encoded).is_none()
            {
                merged.push(entry);
            }
        }
        // Only the span up to the last committed key read is covered when paging stopped early.
        if let (false, Some(last)) = (exhausted, last_read) {
            if plan.reverse {
                read.range.start = last;
            } else {
                read.range.end = Some(successor(&last));
            }
        }
        self.ranges.push(read);
        plan.page(merged.into_iter().map(|e| (e.key, e.value, e.version)))
    }

    pub(crate) async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        for (index, op) in ops.iter().enumerate() {
            self.apply_one(index, op).await?;
        }
        Ok(())
    }

    async fn apply_one(&mut self, index: usize, op: &Write) -> Result<()> {
        match op {
            Write::Check { key, version } => {
                let current = self.get(key).await?.map(|e| e.version);
                if current != *version {
                    return Err(Error::check_failed(index));
                }
                return Ok(());
            }
            Write::CheckRange { .. } => {}
            Write::Set { key, value } => self.put(key, Some(value.clone())),
            // Its key is known at commit: nothing for this transaction's reads to see.
            Write::SetVersionstamped { .. } => {}
            Write::Insert { key, value } => {
                if self.get(key).await?.is_some() {
                    return Err(Error::check_failed(index));
                }
                self.put(key, Some(value.clone()));
            }
            Write::Delete { key } => self.put(key, None),
            Write::DeleteRange { range } => {
                let range = range.byte_range()?;
                self.overlay.retain(|k, _| !range.contains(k));
                self.cleared.push(range);
            }
            Write::Sum { key, delta: operand } => self.count(key, CounterOp::Sum, *operand, index).await?,
            Write::Min { key, operand } => self.count(key, CounterOp::Min, *operand, index).await?,
            Write::Max { key, operand } => self.count(key, CounterOp::Max, *operand, index).await?,
        }
        self.writes.push(op.clone());
        Ok(())
    }

    async fn count(&mut self, key: &Key, op: CounterOp, operand: i64, index: usize) -> Result<()> {
        let current = self.get(key).await?.map(|e| e.value);
        let updated = update_counter(current.as_ref(), op, operand, index)?;
        self.put(key, Some(Value::I64(updated)));
        Ok(())
    }

    fn put(&mut self, key: &Key, value: Option<Value>) {
        self.overlay.insert(key.encode(), (key.clone(), value));
    }

    /// One batch: a `Check` per key read, a `CheckRange` per span listed, then the writes. A
    /// failed precondition means a concurrent commit changed what was read: `Conflict`.
    pub(crate) async fn commit(self) -> Result<Commit> {
        let mut ops: Vec<Write> = self
            .reads
            .into_values()
            .map(|(key, version)| Write::Check { key, version })
            .collect();
        ops.extend(self.ranges.into_iter().map(|r| Write::CheckRange {
            range: r.range,
            count: r.count,
            max_version: r.max_version,
        }));
        let preconditions = ops.len();
        ops.extend(self.writes);
        validate_unit(&ops)?;
        let batches = self.db.batches().ok_or_else(|| Error::Unsupported {
            operation: "atomic batch",
            adapter: self.db.info().name,
        })?;
        match batches.apply_batch(&ops).await {
            Ok(version) => Ok(Commit {
                version,
                mode: Mode::Batch,
            }),
            Err(Error::CheckFailed { index, .. }) if index < preconditions => Err(Error::Conflict {
                message: format!("a key or span read changed before commit (precondition {index})"),
            }),
            // A write's own failure, as an index among the transaction's writes.
            Err(error @ (Error::CheckFailed { .. } | Error::SumFailed { .. })) => {
                let writes = ops.get(preconditions..).unwrap_or_default();
                Err(match error {
                    Error::CheckFailed { index, .. } | Error::SumFailed { index, .. } => {
                        let index = index.saturating_sub(preconditions);
                        error.at_op(index, writes.get(index).and_then(Write::key))
                    }
                    other => other,
                })
            }
            Err(error) => Err(error),
        }
    }
}
