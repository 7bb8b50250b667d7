//! `enginedb bench`: every adapter against its raw driver doing the same work in the same run,
//! atomic units against single writes, concurrent committers, and the raw driver's point get
//! on a worker thread, as SQLite's and redb's reads run; medians of repeated samples, reported
//! as ratios (Markdown) and drawn as a chart (SVG). No threshold is asserted: the targets are
//! printed next to the figures.

mod chart;
mod on_thread;
mod one_core;
mod postgres;
mod raw;
mod report;
mod stats;
mod store;
mod work;

use std::path::Path;
use std::sync::Arc;

use enginedb::{Db, Error, FeedCursor, MemoryDb, Result, Selector, Version, key};
use indicatif::{ProgressBar, ProgressStyle};

pub(crate) use chart::svg;
pub(crate) use one_core::pin as pin_to_one_core;
pub(crate) use report::markdown;
use stats::Stats;
use store::{Adapter, Batch, Events, Store, TOPIC, Units};
pub(crate) use work::Plan;
use work::{Inputs, Work};

/// A backend: an adapter and its raw driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Backend {
    /// `MemoryDb` against a `BTreeMap` (a reference for the port's own overhead).
    Memory,
    /// enginedb-sqlite against rusqlite.
    Sqlite,
    /// enginedb-redb against redb.
    Redb,
    /// enginedb-postgres against sqlx (on a throwaway cluster unless `DATABASE_URL` is set).
    Postgres,
}

impl Backend {
    pub(crate) const ALL: [Backend; 4] = [Backend::Memory, Backend::Sqlite, Backend::Redb, Backend::Postgres];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "sqlite",
            Backend::Redb => "redb",
            Backend::Postgres => "postgres",
        }
    }

    /// Whether the adapter reads on its own threads (a hop the raw driver does not make).
    pub(crate) fn reads_on_threads(self) -> bool {
        matches!(self, Backend::Sqlite | Backend::Redb)
    }
}

/// One measurement on both sides.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Measured {
    pub(crate) backend: Backend,
    pub(crate) work: Work,
    pub(crate) adapter: Stats,
    pub(crate) raw: Stats,
    /// The raw driver's work run on a worker thread, as the adapter's is (see [`on_thread`]):
    /// point gets on the backends that read on threads.
    pub(crate) raw_on_thread: Option<Stats>,
    /// The adapter's work with reads on the caller's thread (`inline_reads`), as the raw
    /// driver's are: point gets on the backends that read on threads.
    pub(crate) adapter_inline: Option<Stats>,
}

/// Everything a run measured.
pub(crate) struct Results {
    pub(crate) plan: Plan,
    /// Whether every thread of the run (and its PostgreSQL) was pinned to one CPU core.
    pub(crate) one_core: bool,
    pub(crate) rows: Vec<Measured>,
}

impl Results {
    pub(crate) fn find(&self, backend: Backend, work: Work) -> Option<&Measured> {
        self.rows.iter().find(|m| m.backend == backend && m.work == work)
    }

    /// The backends measured, in order.
    pub(crate) fn backends(&self) -> Vec<Backend> {
        let mut backends: Vec<Backend> = self.rows.iter().map(|m| m.backend).collect();
        backends.dedup();
        backends
    }

    /// Adapter ÷ raw driver, by median.
    pub(crate) fn ratio(&self, backend: Backend, work: Work) -> Option<f64> {
        self.find(backend, work).map(|m| m.adapter.median / m.raw.median)
    }

    /// How many times faster `fast` is than `slow` on one side (`raw`: the driver's), by median
    /// time per operation: N single writes ÷ one N-op unit, or commits/s of N committers ÷ one.
    pub(crate) fn speedup(&self, backend: Backend, slow: Work, fast: Work, raw: bool) -> Option<f64> {
        let side = |m: &Measured| if raw { m.raw.median } else { m.adapter.median };
        Some(side(self.find(backend, slow)?) / side(self.find(backend, fast)?))
    }
}

/// The run, in words: the build profile, the samples, the data (the chart's subtitle; the
/// report says the same).
pub(crate) fn run_description(results: &Results) -> String {
    format!(
        "{} build; median of {} samples per figure; {} entries loaded; values of 100 bytes; every write \
         durable{}",
        profile(),
        results.plan.samples,
        results.plan.entries,
        if results.one_core {
            "; every thread pinned to one CPU core"
        } else {
            ""
        }
    )
}

/// The build profile of this binary: figures of a debug build say little.
pub(crate) fn profile() -> &'static str {
    if cfg!(debug_assertions) { "debug" } else { "release" }
}

/// A bound a ratio should meet (from the issue that asked for the bench).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    AtMost(f64),
    AtLeast(f64),
}

impl Target {
    pub(crate) fn met(self, value: f64) -> bool {
        match self {
            Target::AtMost(bound) => value <= bound,
            Target::AtLeast(bound) => value >= bound,
        }
    }

    /// Adapter ÷ raw driver (time per operation, so for committers the inverse of commits/s).
    pub(crate) fn for_ratio(backend: Backend, work: Work) -> Option<Target> {
        use Backend::{Memory, Postgres, Redb, Sqlite};
        match (backend, work) {
            (Sqlite | Redb | Postgres, Work::Unit(_)) => Some(Target::AtMost(1.15)),
            (Sqlite | Redb, Work::GetMany | Work::List) => Some(Target::AtMost(1.5)),
            (Postgres, Work::GetMany | Work::List) => Some(Target::AtMost(1.3)),
            (Memory, Work::List) => Some(Target::AtMost(4.0)),
            (Sqlite | Redb, Work::Committers(1)) => Some(Target::AtMost(1.1)),
            (Postgres, Work::Committers(1)) => Some(Target::AtMost(1.15)),
            // At least 0.8× and 1.0× the raw driver's commits/s.
            (Postgres, Work::Committers(8)) => Some(Target::AtMost(1.25)),
            (Postgres, Work::Committers(64)) => Some(Target::AtMost(1.0)),
            // Their point gets are judged like against like (on a thread, inline): see the report.
            _ => None,
        }
    }

    /// The adapter's speed-ups: 64 committers ÷ 1.
    pub(crate) fn for_speedup(backend: Backend, fast: Work) -> Option<Target> {
        match (backend, fast) {
            (Backend::Sqlite | Backend::Redb, Work::Committers(64)) => Some(Target::AtLeast(10.0)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::AtMost(bound) => write!(f, "≤ {bound}"),
            Target::AtLeast(bound) => write!(f, "≥ {bound}×"),
        }
    }
}

/// Runs every measurement on `backends`; `dir` holds the database files; `one_core` says the
/// run was pinned to one core (see [`pin_to_one_core`]).
///
/// # Errors
/// A backend that cannot be opened (e.g. no PostgreSQL server), any failed operation, or a
/// store that returned fewer results than the work asked for.
pub(crate) async fn run(backends: &[Backend], plan: Plan, dir: &Path, one_core: bool) -> Result<Results> {
    let progress = ProgressBar::new((backends.len() * (Work::ALL.len() + Work::FEEDS.len())) as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        progress.set_style(style);
    }
    let mut rows = Vec::new();
    for &backend in backends {
        progress.set_message(format!("{}: starting", backend.name()));
        let server = match backend {
            Backend::Postgres => Some(postgres::Server::start()?),
            _ => None,
        };
        let (adapter, inline, raw) = open(backend, dir, server.as_ref().map(postgres::Server::url)).await?;
        let measured = measure(backend, plan, &adapter, inline.as_ref(), &raw, &progress).await;
        let cleaned = clean_up(&adapter, &raw).await;
        let closed = adapter.close().await;
        rows.extend(measured?);
        cleaned?;
        closed?;
    }
    progress.finish_and_clear();
    Ok(Results { plan, one_core, rows })
}

/// The adapter and the raw driver of `backend`, each on its own empty store; for a backend that
/// reads on threads, also a handle on the adapter's store that reads inline.
async fn open(backend: Backend, dir: &Path, server: Option<&str>) -> Result<(Db, Option<Db>, Arc<dyn Store>)> {
    let file = |extension: &str| dir.join(format!("{}.{extension}", backend.name()));
    Ok(match (backend, server) {
        (Backend::Memory, _) => (Db::from(MemoryDb::new()), None, Arc::new(raw::RawMemory::default())),
        (Backend::Sqlite, _) => {
            let store = enginedb_sqlite::SqliteDb::open(enginedb_sqlite::SqliteConfig::file(file("sqlite3"))).await?;
            let raw = raw::RawSqlite::open(&file("raw.sqlite3"))?;
            (
                Db::from(store.clone()),
                Some(Db::from(store.inline_reads())),
                Arc::new(raw),
            )
        }
        (Backend::Redb, _) => {
            let store = enginedb_redb::RedbDb::open(enginedb_redb::RedbConfig::file(file("redb"))).await?;
            let raw = raw::RawRedb::open(&file("raw.redb"))?;
            (
                Db::from(store.clone()),
                Some(Db::from(store.inline_reads())),
                Arc::new(raw),
            )
        }
        (Backend::Postgres, Some(url)) => {
            let (adapter, raw) = postgres::open(url).await?;
            (adapter, None, raw)
        }
        (Backend::Postgres, None) => return Err(Error::invalid("postgres needs a server")),
    })
}

/// Loads the data set, then samples every work on both sides in turn (rotating which goes
/// first) with the same inputs; point gets on a backend that reads on threads also on the raw
/// driver called on a thread and on the adapter reading `inline`.
async fn measure(
    backend: Backend,
    plan: Plan,
    adapter: &Db,
    inline: Option<&Db>,
    raw: &Arc<dyn Store>,
    progress: &ProgressBar,
) -> Result<Vec<Measured>> {
    let adapter_db = adapter;
    let adapter: Arc<dyn Store> = Arc::new(Adapter(adapter.clone()));
    let inline: Option<Arc<dyn Store>> = inline.map(|db| Arc::new(Adapter(db.clone())) as Arc<dyn Store>);
    let data = plan.data();
    for chunk in data.chunks(1000) {
        let batch = Batch::new(chunk.to_vec(), &work::VALUE);
        adapter.unit(&batch).await?;
        raw.unit(&batch).await?;
    }
    let on_thread: Option<Arc<dyn Store>> = if backend.reads_on_threads() {
        Some(Arc::new(on_thread::OnThread::spawn(raw.clone())?))
    } else {
        None
    };
    let mut inputs = Inputs::new(&data, plan);
    let mut rows = Vec::new();
    for work in Work::ALL {
        progress.set_message(format!("{}: {}", backend.name(), work.label()));
        let thread = on_thread.as_ref().filter(|_| work == Work::Get);
        let inline = inline.as_ref().filter(|_| work == Work::Get);
        let (mut on_adapter, mut on_raw, mut on_raw_thread) = (Vec::new(), Vec::new(), Vec::new());
        let mut on_inline = Vec::new();
        for sample in 0..plan.samples {
            let prepared = inputs.prepare(work);
            let mut sides = vec![(&adapter, &mut on_adapter), (raw, &mut on_raw)];
            if let Some(thread) = thread {
                sides.push((thread, &mut on_raw_thread));
            }
            if let Some(inline) = inline {
                sides.push((inline, &mut on_inline));
            }
            let first = sample % sides.len();
            sides.rotate_left(first);
            for (store, samples) in sides {
                samples.push(work::time(store, work, &prepared).await?);
            }
        }
        rows.push(Measured {
            backend,
            work,
            adapter: Stats::of(on_adapter),
            raw: Stats::of(on_raw),
            raw_on_thread: thread.map(|_| Stats::of(on_raw_thread)),
            adapter_inline: inline.map(|_| Stats::of(on_inline)),
        });
        progress.inc(1);
    }
    // The feed's costs: the adapter against itself, with and without events.
    let db = |events| Arc::new(Units(Adapter(adapter_db.clone()), events)) as Arc<dyn Store>;
    for (work, with) in [(Work::Emit, Events::One), (Work::Events, Events::Instead)] {
        progress.set_message(format!("{}: {}", backend.name(), work.label()));
        let (with, without) = (db(with), db(Events::No));
        let (mut on_with, mut on_without) = (Vec::new(), Vec::new());
        for sample in 0..plan.samples {
            let mut sides = [(&with, &mut on_with), (&without, &mut on_without)];
            sides.rotate_left(sample % 2);
            for (store, samples) in sides {
                // Fresh keys for each side: both insert.
                let prepared = inputs.prepare(work);
                samples.push(work::time(store, work, &prepared).await?);
            }
        }
        rows.push(Measured {
            backend,
            work,
            adapter: Stats::of(on_with),
            raw: Stats::of(on_without),
            raw_on_thread: None,
            adapter_inline: None,
        });
        progress.inc(1);
    }
    Ok(rows)
}

/// Removes what the bench wrote (the server may be one the bench does not own).
async fn clean_up(adapter: &Db, raw: &Arc<dyn Store>) -> Result<()> {
    adapter
        .atomic()
        .delete_range(Selector::prefix(key!["bench"]))
        .commit()
        .await?;
    // Every event: the last cursor a version can make.
    let end = FeedCursor {
        version: Version(i64::MAX.unsigned_abs() - 1),
        index: u32::MAX,
    };
    adapter.feed(TOPIC).trim(end).await?;
    raw.clean_up().await
}
