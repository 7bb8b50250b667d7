//! The workloads, their sizes, and how one sample of each is prepared and timed. Both sides of
//! a comparison get the very same prepared inputs.

use std::sync::Arc;
use std::time::Instant;

use enginedb::{Error, Result, key};

use super::store::{Batch, Item, Store};

/// One thing measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// `get` of one existing key.
    Get,
    /// `get_many` of 100 existing keys.
    GetMany,
    /// `list` of 100 entries from a range.
    List,
    /// One durable single write.
    Write,
    /// One atomic unit of this many writes.
    Unit(usize),
    /// This many durable single writes, one after the other.
    Singles(usize),
    /// This many tasks committing 3-op units at once.
    Committers(usize),
    /// A unit of [`FEED_UNIT`] ops and one feed event, against the same unit without it.
    Emit,
    /// A unit of [`FEED_UNIT`] feed events, against a unit of as many sets.
    Events,
}

impl Work {
    /// Everything, in report order.
    pub(crate) const ALL: [Work; 13] = [
        Work::Get,
        Work::GetMany,
        Work::List,
        Work::Write,
        Work::Unit(10),
        Work::Unit(100),
        Work::Unit(1000),
        Work::Singles(10),
        Work::Singles(100),
        Work::Singles(1000),
        Work::Committers(1),
        Work::Committers(8),
        Work::Committers(64),
    ];

    /// The feed's costs, measured on the adapter against itself.
    pub(crate) const FEEDS: [Work; 2] = [Work::Emit, Work::Events];

    /// What the row is called.
    pub(crate) fn label(self) -> String {
        match self {
            Work::Get => "point get".into(),
            Work::GetMany => format!("get_many({MANY})"),
            Work::List => format!("list({MANY})"),
            Work::Write => "single write".into(),
            Work::Unit(n) => format!("unit of {n} ops"),
            Work::Singles(n) => format!("{n} single writes"),
            Work::Committers(1) => "1 committer".into(),
            Work::Committers(n) => format!("{n} committers"),
            Work::Emit => format!("unit of {FEED_UNIT} ops + 1 emit"),
            Work::Events => format!("unit of {FEED_UNIT} emits"),
        }
    }
}

/// Keys per `get_many` and entries per `list`.
const MANY: usize = 100;
/// Ops per unit of the feed's works.
pub(crate) const FEED_UNIT: usize = 100;
/// Ops per unit of a committer.
const COMMITTER_UNIT: usize = 3;
/// Bytes per value.
pub(crate) const VALUE: [u8; 100] = [0x5A; 100];

/// How much work a run does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Samples per measurement (the median and spread are over these).
    pub(crate) samples: usize,
    /// Entries loaded before the reads.
    pub(crate) entries: usize,
    /// Point gets per sample (get_many and list do a tenth as many calls).
    pub(crate) reads: usize,
    /// Single writes per sample.
    pub(crate) writes: usize,
    /// Ops per sample of units, in units of any size (at least two units): each unit pays
    /// one fsync, whose time varies widely, so the larger the sample the steadier the median.
    pub(crate) unit_ops: usize,
    /// Units committed per sample, across all committers.
    pub(crate) commits: usize,
}

impl Plan {
    /// The full run.
    pub(crate) const FULL: Plan = Plan {
        samples: 9,
        entries: 10_000,
        reads: 2_000,
        writes: 100,
        unit_ops: 20_000,
        commits: 4_096,
    };
    /// `--quick`: a smoke run of every measurement.
    pub(crate) const QUICK: Plan = Plan {
        samples: 3,
        entries: 2_000,
        reads: 300,
        writes: 20,
        unit_ops: 400,
        commits: 192,
    };

    /// The entries every read finds.
    pub(crate) fn data(&self) -> Vec<Item> {
        (0..self.entries)
            .map(|i| Item::new(key!["bench", "data", i as i64]))
            .collect()
    }
}

/// Inputs of one sample, made before the clock starts.
pub(crate) enum Prepared {
    Gets(Vec<Item>),
    GetManys(Vec<Batch>),
    Lists(Vec<(Item, Item)>),
    Puts(Vec<Item>),
    Units(Vec<Batch>),
    Committers(usize, Arc<Vec<Batch>>),
}

/// Makes the inputs of samples: random existing keys and fresh keys to write.
pub(crate) struct Inputs<'a> {
    data: &'a [Item],
    plan: Plan,
    next_fresh: i64,
    random: u64,
}

impl<'a> Inputs<'a> {
    pub(crate) fn new(data: &'a [Item], plan: Plan) -> Inputs<'a> {
        Inputs {
            data,
            plan,
            next_fresh: 0,
            random: 0x9E37_79B9_7F4A_7C15,
        }
    }

    pub(crate) fn prepare(&mut self, work: Work) -> Prepared {
        let plan = self.plan;
        match work {
            Work::Get => Prepared::Gets((0..plan.reads).map(|_| self.existing(0)).collect()),
            Work::GetMany => Prepared::GetManys(
                (0..calls(plan.reads, 10))
                    .map(|_| Batch::new((0..MANY).map(|_| self.existing(0)).collect(), &VALUE))
                    .collect(),
            ),
            Work::List => Prepared::Lists(
                (0..calls(plan.reads, 10))
                    .map(|_| {
                        let start = self.existing(MANY);
                        (start, Item::new(key!["bench", "data", i64::MAX]))
                    })
                    .collect(),
            ),
            Work::Write => Prepared::Puts(self.fresh(plan.writes)),
            Work::Unit(n) => self.units(n),
            Work::Emit | Work::Events => self.units(FEED_UNIT),
            Work::Singles(n) => Prepared::Puts(self.fresh(n)),
            Work::Committers(tasks) => Prepared::Committers(
                tasks,
                Arc::new(
                    (0..plan.commits)
                        .map(|_| Batch::new(self.fresh(COMMITTER_UNIT), &VALUE))
                        .collect(),
                ),
            ),
        }
    }

    /// A sample's budget of units of `n` fresh keys.
    fn units(&mut self, n: usize) -> Prepared {
        Prepared::Units(
            (0..calls(self.plan.unit_ops, n))
                .map(|_| Batch::new(self.fresh(n), &VALUE))
                .collect(),
        )
    }

    /// A random entry of the data set, at least `room` before its end.
    fn existing(&mut self, room: usize) -> Item {
        // xorshift64: cheap, deterministic, good enough to spread reads over the data set.
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        let span = self.data.len().saturating_sub(room).max(1) as u64;
        let index = usize::try_from(self.random % span).unwrap_or(0);
        self.data
            .get(index)
            .cloned()
            .unwrap_or_else(|| Item::new(key!["bench", "data", 0]))
    }

    fn fresh(&mut self, n: usize) -> Vec<Item> {
        (0..n)
            .map(|_| {
                self.next_fresh += 1;
                Item::new(key!["bench", "fresh", self.next_fresh])
            })
            .collect()
    }
}

/// Calls per sample: `budget` ops' worth of calls of `size`, at least 2.
fn calls(budget: usize, size: usize) -> usize {
    (budget / size.max(1)).max(2)
}

/// Runs one sample on `store`; returns seconds per timed operation (a call, a write, a unit,
/// the whole run of single writes, a commit).
pub(crate) async fn time(store: &Arc<dyn Store>, work: Work, prepared: &Prepared) -> Result<f64> {
    let started = Instant::now();
    let (operations, done, expected) = match prepared {
        Prepared::Gets(items) => {
            let mut found = 0;
            for item in items {
                found += usize::from(store.get(item).await?);
            }
            (items.len(), found, items.len())
        }
        Prepared::GetManys(groups) => {
            let mut found = 0;
            for group in groups {
                found += store.get_many(group).await?;
            }
            (groups.len(), found, groups.len() * MANY)
        }
        Prepared::Lists(ranges) => {
            let mut listed = 0;
            for (start, end) in ranges {
                listed += store.list(start, end, MANY).await?;
            }
            (ranges.len(), listed, ranges.len() * MANY)
        }
        Prepared::Puts(items) => {
            for item in items {
                store.put(item, &VALUE).await?;
            }
            let operations = if matches!(work, Work::Singles(_)) {
                1
            } else {
                items.len()
            };
            (operations, items.len(), items.len())
        }
        Prepared::Units(units) => {
            for unit in units {
                store.unit(unit).await?;
            }
            (units.len(), units.len(), units.len())
        }
        Prepared::Committers(tasks, units) => {
            let committed = commit_concurrently(store, *tasks, units).await?;
            (units.len(), committed, units.len())
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    if done != expected {
        return Err(Error::Corrupt {
            message: format!("bench {}: {done} results where {expected} were due", work.label()),
        });
    }
    Ok(elapsed / operations.max(1) as f64)
}

/// `tasks` tasks commit `units` between them (task t takes units t, t + tasks, …); returns how
/// many were committed.
async fn commit_concurrently(store: &Arc<dyn Store>, tasks: usize, units: &Arc<Vec<Batch>>) -> Result<usize> {
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (store, units) = (store.clone(), units.clone());
            tokio::spawn(async move {
                let mut committed = 0;
                for unit in units.iter().skip(task).step_by(tasks) {
                    store.unit(unit).await?;
                    committed += 1;
                }
                Ok::<usize, Error>(committed)
            })
        })
        .collect();
    let mut committed = 0;
    for handle in handles {
        committed += handle.await.map_err(|e| Error::backend("bench", e))??;
    }
    Ok(committed)
}
