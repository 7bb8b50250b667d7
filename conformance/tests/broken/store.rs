//! Deliberately broken stores: `MemoryDb` with one realistic adapter bug each.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use enginedb::port::{AdapterInfo, BatchCapability, EngineDb, EngineTx, ListOptions, TransactionCapability};
use enginedb::testing::{RawRow, tamper_memory};
use enginedb::{
    Cursor, Db, Entry, Error, ErrorKind, Key, KeyPart, MemoryDb, Page, Result, Selector, Value, Version, Write,
};
use enginedb_conformance::{Harness, yield_a_while};

/// One bug. Unless it says otherwise, the broken store offers batches and no transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flaw {
    // Writes.
    /// Its batch applies op by op (yielding in between) and stops at the first failure,
    /// keeping what went before.
    NonAtomicBatch,
    /// It drops `Check`s and treats `Insert` as `Set`.
    ChecksIgnored,
    /// A `Check` for a version always fails.
    ChecksAlwaysFail,
    /// Its counters wrap around on overflow.
    WrappingCounters,
    /// `Min` and `Max` compare by subtracting, which wraps at the i64 edges.
    WrappingMinMax,
    /// An absent counter counts as 1.
    SumStartsAtOne,
    /// It adds the absolute value of the delta.
    AbsDelta,
    /// Its counters go through an f64.
    FloatCounters,
    /// `Set` on an existing key is silently ignored.
    FirstWriteWins,
    /// `Delete` is silently ignored.
    DeleteIgnored,
    /// `Delete` of an absent key fails.
    DeleteAbsentFails,
    /// `Insert` of an absent key is silently ignored.
    InsertNoop,
    /// It applies deletes after every other op of a unit.
    DeletesLast,
    /// It truncates values to 65,535 bytes.
    TruncatedValues,
    /// It refuses an empty batch.
    EmptyBatchFails,
    /// Its key column holds at most 1,024 bytes: longer keys are refused.
    ShortKeys,
    /// It refuses batches over 500 ops or 4 MiB.
    SmallBatches,
    /// Sequential-only, and a write that fails in the backend is reported as done: the
    /// sequential mode's partial writes are hidden.
    HiddenPartialWrite,
    /// A versionstamped write is stamped with a number drawn when the call arrives, not with
    /// the commit's version, and some calls wait before committing.
    EarlyStamps,
    /// A versionstamped write is committed by itself, before the rest of its unit.
    StampsOutsideTheUnit,
    /// `advance_version` answers `Ok` and changes nothing.
    VersionNotAdvanced,
    /// A failed `Check` or `Insert` is reported one op too late (it counts a statement of its
    /// own before the unit's ops).
    CheckIndexShifted,
    // Reads.
    /// A missing key reads as an empty value at version 0.
    PhantomDefault,
    /// Every version reads and returns as 0.
    ZeroVersions,
    /// Versions are a hash of the value, not the commit.
    ValueHashVersions,
    /// `write` returns the version before the one it committed.
    WriteReturnsStaleVersion,
    /// Counters read back as their 8 big-endian bytes.
    CountersAsBytes,
    /// Keys read back with their bytes parts turned into (lossy) strings.
    LossyKeyDecode,
    /// `get_many` answers in key order, without duplicates.
    GetManySorted,
    /// `get_many` refuses more than 500 keys.
    SmallGetMany,
    /// The backend fails the second `list` of each store, and the store takes the failure for
    /// the end of the rows: an empty last page instead of an error.
    SwallowedReadError,
    // Lists.
    /// It lists keys ordered by their debug text instead of tuple order.
    WrongOrder,
    /// Resuming from a cursor skips the first entry after it.
    SkippingCursor,
    /// Its cursors point one entry too early, so resuming repeats an entry.
    RepeatingCursor,
    /// `Prefix` matches the encoded bytes, not the tuple.
    BytePrefix,
    /// `Prefix(p)` also returns `p`.
    PrefixIncludesItself,
    /// `Range` includes its end.
    RangeEndInclusive,
    /// A prefix selector's `start` is ignored.
    PrefixStartIgnored,
    /// A prefix selector's `end` is ignored.
    PrefixEndIgnored,
    /// An empty page carries a cursor.
    EmptyPageCursor,
    /// Listed entries report version 0.
    ListStaleVersions,
    /// `list` ignores the limit and returns everything.
    ListIgnoresLimit,
    // Stored bytes.
    /// A list of the whole key space (the empty prefix) reads only the span of key encodings,
    /// as a store binding `Key::prefix_range` of the empty key would: rows whose key bytes
    /// start with another byte than the format byte, or are the format byte alone, are skipped.
    ForeignRowsSkipped,
    /// Reads leave out what does not decode: a `get` of a corrupt row finds nothing, a list
    /// that meets one ends there.
    CorruptionHidden,
    // Capabilities and transactions.
    /// Offers transactions whose `begin` always fails.
    BrokenBegin,
    /// Offers transactions that write straight through (autocommit).
    AutocommitTx,
    /// Offers transactions whose reads ignore their own writes.
    TxReadsIgnoreOwnWrites,
    /// Offers transactions whose rollback commits.
    TxRollbackCommits,
    // Harness.
    /// Reopening loses the data.
    ForgetfulReopen,
    /// Both "namespaces" are one.
    SharedNamespaces,
}

impl Flaw {
    /// Every flaw.
    pub(crate) const ALL: &[Flaw] = &[
        Flaw::NonAtomicBatch,
        Flaw::ChecksIgnored,
        Flaw::ChecksAlwaysFail,
        Flaw::WrappingCounters,
        Flaw::WrappingMinMax,
        Flaw::SumStartsAtOne,
        Flaw::AbsDelta,
        Flaw::FloatCounters,
        Flaw::FirstWriteWins,
        Flaw::DeleteIgnored,
        Flaw::DeleteAbsentFails,
        Flaw::InsertNoop,
        Flaw::DeletesLast,
        Flaw::TruncatedValues,
        Flaw::EmptyBatchFails,
        Flaw::ShortKeys,
        Flaw::SmallBatches,
        Flaw::HiddenPartialWrite,
        Flaw::CheckIndexShifted,
        Flaw::EarlyStamps,
        Flaw::StampsOutsideTheUnit,
        Flaw::VersionNotAdvanced,
        Flaw::PhantomDefault,
        Flaw::ZeroVersions,
        Flaw::ValueHashVersions,
        Flaw::WriteReturnsStaleVersion,
        Flaw::CountersAsBytes,
        Flaw::LossyKeyDecode,
        Flaw::GetManySorted,
        Flaw::SmallGetMany,
        Flaw::SwallowedReadError,
        Flaw::WrongOrder,
        Flaw::SkippingCursor,
        Flaw::RepeatingCursor,
        Flaw::BytePrefix,
        Flaw::PrefixIncludesItself,
        Flaw::RangeEndInclusive,
        Flaw::PrefixStartIgnored,
        Flaw::PrefixEndIgnored,
        Flaw::EmptyPageCursor,
        Flaw::ListStaleVersions,
        Flaw::ListIgnoresLimit,
        Flaw::ForeignRowsSkipped,
        Flaw::CorruptionHidden,
        Flaw::BrokenBegin,
        Flaw::AutocommitTx,
        Flaw::TxReadsIgnoreOwnWrites,
        Flaw::TxRollbackCommits,
        Flaw::ForgetfulReopen,
        Flaw::SharedNamespaces,
    ];
}

/// `MemoryDb` with one flaw.
#[derive(Clone)]
pub(crate) struct Broken {
    inner: MemoryDb,
    flaw: Flaw,
    /// `list` calls so far.
    lists: Arc<AtomicUsize>,
    /// Stamps drawn so far ([`Flaw::EarlyStamps`]).
    stamps: Arc<AtomicU64>,
}

impl Broken {
    pub(crate) fn new(flaw: Flaw) -> Self {
        Broken {
            inner: MemoryDb::new(),
            flaw,
            lists: Arc::default(),
            stamps: Arc::default(),
        }
    }

    fn has_transactions(&self) -> bool {
        matches!(
            self.flaw,
            Flaw::BrokenBegin | Flaw::AutocommitTx | Flaw::TxReadsIgnoreOwnWrites | Flaw::TxRollbackCommits
        )
    }

    async fn current(&self, key: &Key) -> Result<Option<Value>> {
        Ok(self.inner.get(key).await?.map(|e| e.value))
    }

    /// What `key` holds at this point of a unit: its value when the unit wrote it, else the
    /// stored one.
    async fn seen(&self, pending: &HashMap<Key, Option<Value>>, key: &Key) -> Result<Option<Value>> {
        match pending.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.current(key).await,
        }
    }

    /// The unit as this store (mis)understands it.
    async fn rewrite(&self, ops: &[Write]) -> Result<Vec<Write>> {
        // What the ops so far wrote (for the counter flaws, which compute values themselves).
        let mut pending: HashMap<Key, Option<Value>> = HashMap::new();
        let mut out = Vec::new();
        for op in ops {
            if let (Flaw::ShortKeys, Some(key)) = (self.flaw, op.key())
                && key.encoded_len() > 1_024
            {
                return Err(Error::LimitExceeded {
                    what: "key column bytes",
                    limit: 1_024,
                    actual: key.encoded_len() as u64,
                    nothing_written: false,
                });
            }
            let counter = match op {
                Write::Sum { key, .. } | Write::Min { key, .. } | Write::Max { key, .. } => {
                    Some(self.seen(&pending, key).await?)
                }
                _ => None,
            };
            let rewritten = match (self.flaw, op) {
                (Flaw::ChecksIgnored, Write::Check { .. } | Write::CheckRange { .. }) => None,
                (Flaw::ChecksIgnored, Write::Insert { key, value }) => Some(Write::set(key.clone(), value.clone())),
                (Flaw::ChecksAlwaysFail, Write::Check { key, version: Some(_) }) => {
                    Some(Write::check(key.clone(), Some(Version::PENDING)))
                }
                (Flaw::WrappingCounters | Flaw::SumStartsAtOne | Flaw::FloatCounters, Write::Sum { key, delta }) => {
                    let current = match counter.flatten() {
                        Some(Value::I64(n)) => n,
                        Some(Value::Bytes(_)) => 0,
                        None if self.flaw == Flaw::SumStartsAtOne => 1,
                        None => 0,
                    };
                    let sum = match self.flaw {
                        Flaw::FloatCounters => (current as f64 + *delta as f64) as i64,
                        _ => current.wrapping_add(*delta),
                    };
                    Some(Write::set(key.clone(), sum))
                }
                (Flaw::WrappingMinMax, Write::Min { key, operand } | Write::Max { key, operand }) => {
                    match counter.flatten() {
                        Some(Value::I64(n)) => {
                            // "n < operand", as `n - operand < 0`: wrong once the difference wraps.
                            let less = n.wrapping_sub(*operand) < 0;
                            let keep_n = matches!(op, Write::Min { .. }) == less;
                            Some(Write::set(key.clone(), if keep_n { n } else { *operand }))
                        }
                        Some(Value::Bytes(_)) => Some(op.clone()),
                        None => Some(Write::set(key.clone(), *operand)),
                    }
                }
                (Flaw::EarlyStamps, Write::SetVersionstamped { prefix, value }) => {
                    let stamp = self.stamps.fetch_add(1, Ordering::Relaxed) + 1;
                    if stamp.is_multiple_of(2) {
                        yield_a_while(5).await;
                    }
                    Some(Write::set(
                        Key::versionstamped(prefix, Version(stamp), 0)?,
                        value.clone(),
                    ))
                }
                (Flaw::StampsOutsideTheUnit, Write::SetVersionstamped { .. }) => {
                    self.inner.write(op).await?;
                    None
                }
                (Flaw::AbsDelta, Write::Sum { key, delta }) => Some(Write::sum(key.clone(), delta.saturating_abs())),
                (
                    Flaw::FloatCounters,
                    Write::Set {
                        key,
                        value: Value::I64(n),
                    },
                ) => Some(Write::set(key.clone(), *n as f64 as i64)),
                (Flaw::FirstWriteWins, Write::Set { key, .. }) if self.current(key).await?.is_some() => None,
                (Flaw::DeleteIgnored, Write::Delete { .. } | Write::DeleteRange { .. }) => None,
                (Flaw::DeleteAbsentFails, Write::Delete { key }) if self.current(key).await?.is_none() => {
                    Some(Write::check(key.clone(), Some(Version::PENDING)))
                }
                (Flaw::InsertNoop, Write::Insert { key, .. }) if self.current(key).await?.is_none() => None,
                (
                    Flaw::TruncatedValues,
                    Write::Set {
                        key,
                        value: Value::Bytes(b),
                    },
                ) if b.len() > 65_535 => Some(Write::set(
                    key.clone(),
                    b.iter().take(65_535).copied().collect::<Vec<u8>>(),
                )),
                _ => Some(op.clone()),
            };
            if let Some(op) = &rewritten {
                self.note(&mut pending, op).await?;
            }
            out.extend(rewritten);
        }
        if self.flaw == Flaw::DeletesLast {
            let (deletes, others): (Vec<Write>, Vec<Write>) = out
                .into_iter()
                .partition(|op| matches!(op, Write::Delete { .. } | Write::DeleteRange { .. }));
            out = others.into_iter().chain(deletes).collect();
        }
        Ok(out)
    }

    /// Records what `op` (as sent) leaves at its key.
    async fn note(&self, pending: &mut HashMap<Key, Option<Value>>, op: &Write) -> Result<()> {
        let counter = |current: Option<Value>, f: &dyn Fn(i64) -> Option<i64>| match current {
            Some(Value::I64(n)) => f(n).map(Value::I64),
            _ => None,
        };
        match op {
            Write::Set { key, value } | Write::Insert { key, value } => {
                pending.insert(key.clone(), Some(value.clone()));
            }
            Write::Delete { key } => {
                pending.insert(key.clone(), None);
            }
            Write::Sum { key, delta } => {
                let current = self.seen(pending, key).await?.or(Some(Value::I64(0)));
                pending.insert(key.clone(), counter(current, &|n| n.checked_add(*delta)));
            }
            Write::Min { key, operand } | Write::Max { key, operand } => {
                let current = self.seen(pending, key).await?.or(Some(Value::I64(*operand)));
                let min = matches!(op, Write::Min { .. });
                let keep = |n: i64| Some(if min { n.min(*operand) } else { n.max(*operand) });
                pending.insert(key.clone(), counter(current, &keep));
            }
            Write::DeleteRange { .. } => pending.clear(),
            Write::Check { .. } | Write::CheckRange { .. } | Write::SetVersionstamped { .. } => {}
        }
        Ok(())
    }

    /// An entry as this store reports it.
    fn present(&self, mut entry: Entry) -> Entry {
        match self.flaw {
            Flaw::ZeroVersions => entry.version = Version(0),
            Flaw::ValueHashVersions => entry.version = value_hash(&entry.value),
            Flaw::CountersAsBytes => {
                if let Value::I64(n) = entry.value {
                    entry.value = Value::Bytes(n.to_be_bytes().to_vec());
                }
            }
            Flaw::LossyKeyDecode => {
                entry.key = entry
                    .key
                    .parts()
                    .iter()
                    .map(|p| match p {
                        KeyPart::Bytes(b) => KeyPart::Str(String::from_utf8_lossy(b).into_owned()),
                        other => other.clone(),
                    })
                    .collect();
            }
            _ => {}
        }
        entry
    }

    fn present_missing(&self, key: &Key, found: Option<Entry>) -> Option<Entry> {
        match (self.flaw, found) {
            (Flaw::PhantomDefault, None) => Some(Entry {
                key: key.clone(),
                value: Value::Bytes(vec![]),
                version: Version(0),
            }),
            (_, found) => found.map(|e| self.present(e)),
        }
    }

    async fn broken_list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let list = self.lists.fetch_add(1, Ordering::SeqCst) + 1;
        if self.flaw == Flaw::SwallowedReadError && list == 2 {
            // The backend fails while this page's rows are fetched, and the store takes the
            // failure for the end of the rows.
            let fetched = rows_lost_in_the_backend();
            return Ok(Page {
                entries: fetched.unwrap_or_default(),
                cursor: None,
            });
        }
        let mut options = options.clone();
        let mut selector = selector.clone();
        match (self.flaw, &mut selector) {
            (Flaw::ListIgnoresLimit, _) => options.limit = 1000,
            (Flaw::PrefixStartIgnored, Selector::Prefix { start, .. }) => *start = None,
            (Flaw::PrefixEndIgnored, Selector::Prefix { end, .. }) => *end = None,
            (Flaw::ForeignRowsSkipped, Selector::Prefix { prefix, start, end }) if prefix.parts().is_empty() => {
                // The keys' span: from the smallest key to one past any the suite writes.
                let smallest = Key::from_iter([KeyPart::Bytes(Vec::new())]);
                let beyond = Key::from_iter(vec![KeyPart::Bool(true); 1_000]);
                *start = Some(start.take().map_or(smallest.clone(), |s| s.max(smallest)));
                *end = Some(end.take().map_or(beyond.clone(), |e| e.min(beyond)));
            }
            _ => {}
        }
        let mut page = match (self.flaw, &selector) {
            (
                Flaw::BytePrefix,
                Selector::Prefix {
                    prefix,
                    start: None,
                    end: None,
                },
            ) => self.byte_prefix(prefix, &options).await?,
            _ => match self.inner.list(&selector, &options).await {
                Err(error) if self.flaw == Flaw::CorruptionHidden && error.kind() == ErrorKind::Corrupt => Page {
                    entries: Vec::new(),
                    cursor: None,
                },
                listed => listed?,
            },
        };
        let first_page = options.cursor.is_none();
        match (self.flaw, &selector) {
            (Flaw::WrongOrder, _) => page.entries.sort_by_key(|e| format!("{:?}", e.key)),
            (Flaw::SkippingCursor, _) if !first_page && !page.entries.is_empty() => {
                page.entries.remove(0);
            }
            (Flaw::RepeatingCursor, _) => page.cursor = cursor_one_early(&page).or(page.cursor),
            (
                Flaw::PrefixIncludesItself,
                Selector::Prefix {
                    prefix,
                    start: None,
                    end: None,
                },
            ) if first_page && !options.reverse => {
                if let Some(itself) = self.inner.get(prefix).await.ok().flatten() {
                    page.entries.insert(0, itself);
                }
            }
            (Flaw::RangeEndInclusive, Selector::Range { end, .. }) if page.cursor.is_none() && !options.reverse => {
                page.entries.extend(self.inner.get(end).await.ok().flatten());
            }
            (Flaw::EmptyPageCursor, _) if page.entries.is_empty() => page.cursor = Some(Cursor::from_bytes(vec![1])),
            (Flaw::ListStaleVersions, _) => page.entries.iter_mut().for_each(|e| e.version = Version(0)),
            (Flaw::ListIgnoresLimit, _) => page.cursor = None,
            _ => {}
        }
        page.entries = page.entries.into_iter().map(|e| self.present(e)).collect();
        Ok(page)
    }

    /// Lists by a byte prefix of `p`'s encoding (its last terminator dropped), as a naive SQL
    /// `LIKE 'prefix%'` would.
    async fn byte_prefix(&self, p: &Key, options: &ListOptions) -> Result<Page> {
        let parent: Key = p
            .parts()
            .iter()
            .take(p.parts().len().saturating_sub(1))
            .cloned()
            .collect();
        let mut stem = p.encode();
        if stem.last() == Some(&0) {
            stem.pop();
        }
        let mut page = self.inner.list(&Selector::prefix(parent), options).await?;
        page.entries.retain(|e| {
            let encoded = e.key.encode();
            encoded.starts_with(&stem) && e.key != *p
        });
        Ok(page)
    }
}

impl Broken {
    /// A read as this store reports it: with [`Flaw::CorruptionHidden`], a corrupt entry as
    /// absent.
    fn hide_corruption(&self, read: Result<Option<Entry>>) -> Result<Option<Entry>> {
        match read {
            Err(error) if self.flaw == Flaw::CorruptionHidden && error.kind() == ErrorKind::Corrupt => Ok(None),
            read => read,
        }
    }

    /// A failed check as this store reports it.
    fn shift_check_index(&self, result: Result<Version>) -> Result<Version> {
        match (self.flaw, result) {
            (Flaw::CheckIndexShifted, Err(Error::CheckFailed { index, .. })) => Err(Error::check_failed(index + 1)),
            (_, result) => result,
        }
    }
}

/// The rows of a page whose fetch the backend failed.
fn rows_lost_in_the_backend() -> Result<Vec<Entry>> {
    Err(Error::backend("broken", "connection reset while fetching rows"))
}

fn value_hash(value: &Value) -> Version {
    let bytes = match value {
        Value::Bytes(b) => b.clone(),
        Value::I64(n) => n.to_be_bytes().to_vec(),
    };
    Version(
        bytes.iter().fold(1469598103934665603u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(1099511628211)
        }) >> 1,
    )
}

/// Re-points a page's cursor one entry earlier (the cursor bytes are a tag byte followed by
/// the encoded key, a documented stable form).
fn cursor_one_early(page: &Page) -> Option<Cursor> {
    let tag = *page.cursor.as_ref()?.as_bytes().first()?;
    let earlier = page.entries.iter().rev().nth(1)?;
    let mut bytes = vec![tag];
    bytes.extend(earlier.key.encode());
    Some(Cursor::from_bytes(bytes))
}

#[async_trait::async_trait]
impl EngineDb for Broken {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new(format!("broken: {:?}", self.flaw))
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let found = self.hide_corruption(self.inner.get(key).await)?;
        Ok(self.present_missing(key, found))
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        if self.flaw == Flaw::SmallGetMany && keys.len() > 500 {
            return Err(Error::LimitExceeded {
                what: "keys per get_many",
                limit: 500,
                actual: keys.len() as u64,
                nothing_written: false,
            });
        }
        let mut keys = keys.to_vec();
        if self.flaw == Flaw::GetManySorted {
            keys.sort();
            keys.dedup();
        }
        let found = match self.inner.get_many(&keys).await {
            Err(error) if self.flaw == Flaw::CorruptionHidden && error.kind() == ErrorKind::Corrupt => {
                let mut found = Vec::with_capacity(keys.len());
                for key in &keys {
                    found.push(self.hide_corruption(self.inner.get(key).await)?);
                }
                found
            }
            found => found?,
        };
        Ok(keys
            .iter()
            .zip(found)
            .map(|(k, e)| self.present_missing(k, e))
            .collect())
    }

    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        self.broken_list(selector, options).await
    }

    async fn write(&self, op: &Write) -> Result<Version> {
        let ops = self.rewrite(std::slice::from_ref(op)).await?;
        let result = match ops.as_slice() {
            [op] => self.inner.write(op).await,
            ops => self.inner.apply_batch(ops).await,
        };
        match (self.flaw, result) {
            (Flaw::HiddenPartialWrite, Err(_)) => Ok(Version(0)),
            (Flaw::ZeroVersions, Ok(_)) => Ok(Version(0)),
            (Flaw::ValueHashVersions, Ok(v)) => Ok(match op {
                Write::Set { value, .. } | Write::Insert { value, .. } => value_hash(value),
                _ => v,
            }),
            (Flaw::WriteReturnsStaleVersion, Ok(v)) => Ok(Version(v.0.saturating_sub(1))),
            (_, result) => self.shift_check_index(result),
        }
    }

    async fn advance_version(&self, past: Version) -> Result<()> {
        match self.flaw {
            Flaw::VersionNotAdvanced => Ok(()),
            _ => self.inner.advance_version(past).await,
        }
    }

    fn transactions(&self) -> Option<&dyn TransactionCapability> {
        self.has_transactions().then_some(self as &dyn TransactionCapability)
    }

    fn batches(&self) -> Option<&dyn BatchCapability> {
        match self.flaw {
            Flaw::HiddenPartialWrite => None,
            _ => Some(self),
        }
    }
}

#[async_trait::async_trait]
impl BatchCapability for Broken {
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        let ops = self.rewrite(ops).await?;
        match self.flaw {
            Flaw::EmptyBatchFails if ops.is_empty() => Err(Error::invalid("empty batch")),
            Flaw::SmallBatches if ops.len() > 500 || enginedb::port::unit_size(&ops) > 4 << 20 => {
                Err(Error::LimitExceeded {
                    what: "batch",
                    limit: 500,
                    actual: ops.len() as u64,
                    nothing_written: false,
                })
            }
            Flaw::NonAtomicBatch => {
                let mut version = Version(0);
                for op in &ops {
                    version = self.inner.write(op).await?;
                    yield_a_while(1).await;
                }
                Ok(version)
            }
            _ => self.shift_check_index(self.inner.apply_batch(&ops).await),
        }
    }
}

#[async_trait::async_trait]
impl TransactionCapability for Broken {
    async fn begin(&self) -> Result<Box<dyn EngineTx>> {
        match self.flaw {
            Flaw::BrokenBegin => Err(Error::busy("begin always fails")),
            Flaw::AutocommitTx => Ok(Box::new(AutocommitTx(self.inner.clone()))),
            _ => Ok(Box::new(FlawedTx {
                inner: self.inner.begin().await?,
                db: self.inner.clone(),
                flaw: self.flaw,
            })),
        }
    }
}

/// A "transaction" that writes straight through.
struct AutocommitTx(MemoryDb);

#[async_trait::async_trait]
impl EngineTx for AutocommitTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        self.0.get(key).await
    }
    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        self.0.get_many(keys).await
    }
    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        self.0.list(selector, options).await
    }
    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        self.0.apply_batch(ops).await.map(drop)
    }
    async fn commit(self: Box<Self>) -> Result<Version> {
        self.0.apply_batch(&[]).await
    }
    async fn rollback(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// A real transaction with a flawed read or rollback.
struct FlawedTx {
    inner: Box<dyn EngineTx>,
    db: MemoryDb,
    flaw: Flaw,
}

#[async_trait::async_trait]
impl EngineTx for FlawedTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        match self.flaw {
            Flaw::TxReadsIgnoreOwnWrites => self.db.get(key).await,
            _ => self.inner.get(key).await,
        }
    }
    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        match self.flaw {
            Flaw::TxReadsIgnoreOwnWrites => self.db.get_many(keys).await,
            _ => self.inner.get_many(keys).await,
        }
    }
    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        match self.flaw {
            Flaw::TxReadsIgnoreOwnWrites => self.db.list(selector, options).await,
            _ => self.inner.list(selector, options).await,
        }
    }
    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        self.inner.apply(ops).await
    }
    async fn commit(self: Box<Self>) -> Result<Version> {
        self.inner.commit().await
    }
    async fn rollback(self: Box<Self>) -> Result<()> {
        match self.flaw {
            Flaw::TxRollbackCommits => self.inner.commit().await.map(drop),
            _ => self.inner.rollback().await,
        }
    }
}

/// Hands out broken stores; its reopen and namespaces are flawed for the harness flaws (and
/// only offered for them); it tampers with the store it opened last through `MemoryDb`'s hook.
pub(crate) struct BrokenHarness {
    flaw: Flaw,
    opened: RefCell<Option<MemoryDb>>,
}

impl BrokenHarness {
    pub(crate) fn new(flaw: Flaw) -> Self {
        BrokenHarness {
            flaw,
            opened: RefCell::default(),
        }
    }
}

#[async_trait::async_trait(?Send)]
impl Harness for BrokenHarness {
    async fn open(&self) -> Result<Db> {
        let store = Broken::new(self.flaw);
        *self.opened.borrow_mut() = Some(store.inner.clone());
        Ok(Db::from(store))
    }

    fn reopens(&self) -> bool {
        self.flaw == Flaw::ForgetfulReopen
    }

    async fn reopen(&self, db: Db) -> Result<Db> {
        db.close().await?;
        Ok(Db::from(Broken::new(self.flaw)))
    }

    fn has_namespaces(&self) -> bool {
        self.flaw == Flaw::SharedNamespaces
    }

    async fn namespaces(&self) -> Result<[Db; 2]> {
        let one = Db::from(Broken::new(self.flaw));
        Ok([one.clone(), one])
    }

    fn tampers(&self) -> bool {
        true
    }

    async fn tamper(&self, db: Db, rows: &[RawRow]) -> Result<Db> {
        let opened = self.opened.borrow().clone();
        tamper_memory(&opened.ok_or_else(|| Error::invalid("no store was opened"))?, rows)?;
        Ok(db)
    }
}
