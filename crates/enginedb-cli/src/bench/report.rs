//! The Markdown report: adapter ÷ raw driver, the speed-ups, and every median with its spread.

use std::fmt::Write as _;

use super::stats::Stats;
use super::work::{FEED_UNIT, Work};
use super::{Backend, Measured, Results, Target};

/// The speed-ups reported: (what is slow, what is fast, how the row reads).
pub(crate) const SPEEDUPS: [(Work, Work, &str); 5] = [
    (Work::Singles(10), Work::Unit(10), "10 single writes ÷ one 10-op unit"),
    (
        Work::Singles(100),
        Work::Unit(100),
        "100 single writes ÷ one 100-op unit",
    ),
    (
        Work::Singles(1000),
        Work::Unit(1000),
        "1,000 single writes ÷ one 1,000-op unit",
    ),
    (Work::Committers(1), Work::Committers(8), "commits/s: 8 committers ÷ 1"),
    (
        Work::Committers(1),
        Work::Committers(64),
        "commits/s: 64 committers ÷ 1",
    ),
];

/// The whole report.
pub(crate) fn markdown(results: &Results) -> String {
    let backends = results.backends();
    let mut out = String::new();
    let plan = results.plan;
    let _ = writeln!(
        out,
        "## enginedb bench\n\nMedian of {} samples per figure, the adapter and its raw driver sampled in turn with the \
         same inputs; ± is half the range of the samples. {} entries loaded; values of 100 bytes; every write durable \
         (the adapters' defaults); {} build.{} ✓/✗: the target is met/missed.\n",
        plan.samples,
        plan.entries,
        super::profile(),
        if results.one_core {
            " Every thread of the run, and PostgreSQL, pinned to one CPU core (`--one-core`)."
        } else {
            ""
        }
    );

    let _ = writeln!(
        out,
        "### Adapter ÷ raw driver (time per operation; below 1: the adapter is faster)\n"
    );
    header(&mut out, "work", &backends);
    for work in Work::ALL {
        let cells = backends.iter().map(|&b| {
            results.ratio(b, work).map_or("–".into(), |r| {
                judged(format!("{r:.2}"), r, Target::for_ratio(b, work))
            })
        });
        row(&mut out, &work.label(), cells);
    }
    on_thread(&mut out, results);

    let _ = writeln!(out, "\n### Speed-ups of the adapter (the raw driver's in brackets)\n");
    header(&mut out, "ratio", &backends);
    for (slow, fast, label) in SPEEDUPS {
        let cells = backends.iter().map(|&b| {
            match (
                results.speedup(b, slow, fast, false),
                results.speedup(b, slow, fast, true),
            ) {
                (Some(adapter), Some(raw)) => judged(
                    format!("{adapter:.1}× ({raw:.1}×)"),
                    adapter,
                    Target::for_speedup(b, fast),
                ),
                _ => "–".into(),
            }
        });
        row(&mut out, label, cells);
    }

    targets(&mut out, results);
    feeds(&mut out, results);

    let _ = writeln!(out, "\n### Every figure\n");
    let _ = writeln!(
        out,
        "| backend | work | adapter | raw driver | adapter ÷ raw |\n|---|---|---|---|---|"
    );
    for m in results.rows.iter().filter(|m| !Work::FEEDS.contains(&m.work)) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} |",
            m.backend.name(),
            m.work.label(),
            figure(m.work, &m.adapter),
            figure(m.work, &m.raw),
            m.adapter.median / m.raw.median
        );
    }
    out
}

/// Point gets on the backends that read on threads, like against like: the adapter on its
/// reader threads against the raw driver called on a worker thread, and the adapter reading
/// inline (`inline_reads`) against the raw driver on the caller.
fn on_thread(out: &mut String, results: &Results) {
    let target = Target::AtMost(1.3);
    let gets: Vec<String> = results
        .rows
        .iter()
        .filter_map(|m| {
            let on_thread = m.raw_on_thread?;
            let threaded = m.adapter.median / on_thread.median;
            let mut line = format!(
                "{}: the raw driver on a thread {} ±{:.0}%, the adapter {}, {}",
                m.backend.name(),
                duration(on_thread.median),
                on_thread.spread() * 100.0,
                duration(m.adapter.median),
                judged(format!("{threaded:.2}×"), threaded, Some(target)),
            );
            if let Some(inline) = m.adapter_inline {
                let ratio = inline.median / m.raw.median;
                let _ = write!(
                    line,
                    "; inline, the raw driver {}, the adapter {} ±{:.0}%, {}",
                    duration(m.raw.median),
                    duration(inline.median),
                    inline.spread() * 100.0,
                    judged(format!("{ratio:.2}×"), ratio, Some(target)),
                );
            }
            Some(line)
        })
        .collect();
    if gets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nReads on sqlite and redb run on the adapters' reader threads, which keep blocking drivers off the async \
         executor; the raw drivers read on the caller. Point gets like against like, in the same samples — on a \
         thread (the raw driver's get as a job on an `enginedb_kit::blocking::Worker`, as the adapters' reads are) \
         and inline (a handle with `inline_reads()`, which reads on the caller's thread): {}.",
        gets.join("; ")
    );
}

/// The feed's costs, the adapter against itself: one emit added to a unit, and a unit of
/// emits against one of as many sets.
fn feeds(out: &mut String, results: &Results) {
    let backends = results.backends();
    if !backends.iter().any(|&b| results.ratio(b, Work::Emit).is_some()) {
        return;
    }
    let _ = writeln!(
        out,
        "\n### Feeds (the adapter against itself)\n\nUnits built as an application builds them (`db.atomic()…`): \
         one `emit` added to a unit of {FEED_UNIT} sets, and a unit of {FEED_UNIT} `emit`s against one of {FEED_UNIT} sets.\n"
    );
    header(out, "work", &backends);
    let cell = |work: Work, text: &dyn Fn(&Measured) -> String| {
        backends
            .iter()
            .map(|&b| results.find(b, work).map_or("–".into(), text))
            .collect::<Vec<_>>()
    };
    let emit = |m: &Measured| {
        format!(
            "{:+.2} ({} → {})",
            m.adapter.median / m.raw.median - 1.0,
            duration(m.raw.median),
            duration(m.adapter.median)
        )
    };
    row(
        out,
        "one emit: added time, as a share of the unit",
        cell(Work::Emit, &emit).into_iter(),
    );
    let events = |m: &Measured| {
        format!(
            "{:.0} ±{:.0}% ({:.2}× the sets' time)",
            FEED_UNIT as f64 / m.adapter.median,
            m.adapter.spread() * 100.0,
            m.adapter.median / m.raw.median
        )
    };
    row(
        out,
        &format!("events/s in units of {FEED_UNIT} emits"),
        cell(Work::Events, &events).into_iter(),
    );
}

/// Which targets the run met: every ratio and speed-up that has one, and the point gets like
/// against like.
fn targets(out: &mut String, results: &Results) {
    let mut judged: Vec<(String, bool)> = Vec::new();
    for m in &results.rows {
        let name = |what: &str| format!("{} {what}", m.backend.name());
        if let Some(target) = Target::for_ratio(m.backend, m.work) {
            judged.push((name(&m.work.label()), target.met(m.adapter.median / m.raw.median)));
        }
        let point_get = Target::AtMost(1.3);
        if let Some(thread) = m.raw_on_thread {
            judged.push((
                name("point get on a thread"),
                point_get.met(m.adapter.median / thread.median),
            ));
        }
        if let Some(inline) = m.adapter_inline {
            judged.push((name("point get inline"), point_get.met(inline.median / m.raw.median)));
        }
    }
    for backend in results.backends() {
        for (slow, fast, label) in SPEEDUPS {
            let target = Target::for_speedup(backend, fast);
            if let (Some(target), Some(value)) = (target, results.speedup(backend, slow, fast, false)) {
                judged.push((format!("{} {label}", backend.name()), target.met(value)));
            }
        }
    }
    if judged.is_empty() {
        return;
    }
    let met = judged.iter().filter(|(_, met)| *met).count();
    let missed: Vec<&str> = judged
        .iter()
        .filter(|(_, met)| !met)
        .map(|(name, _)| name.as_str())
        .collect();
    let _ = write!(out, "\n**Targets: {met} of {} met.**", judged.len());
    if !missed.is_empty() {
        let _ = write!(out, " Missed: {}.", missed.join("; "));
    }
    let _ = writeln!(out);
}

fn header(out: &mut String, first: &str, backends: &[Backend]) {
    let names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
    let _ = writeln!(out, "| {first} | {} |", names.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(backends.len()));
}

fn row(out: &mut String, label: &str, cells: impl Iterator<Item = String>) {
    let cells: Vec<String> = cells.collect();
    let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
}

/// `text`, followed by the target and whether `value` meets it.
fn judged(text: String, value: f64, target: Option<Target>) -> String {
    match target {
        Some(target) if target.met(value) => format!("{text} ✓ {target}"),
        Some(target) => format!("{text} ✗ {target}"),
        None => text,
    }
}

/// A median with its spread: commits per second for committers, else time per operation.
fn figure(work: Work, stats: &Stats) -> String {
    let spread = stats.spread() * 100.0;
    if matches!(work, Work::Committers(_)) {
        return format!("{:.0} commits/s ±{spread:.0}%", 1.0 / stats.median);
    }
    format!("{} ±{spread:.0}%", duration(stats.median))
}

/// Seconds in the unit that reads best.
pub(crate) fn duration(seconds: f64) -> String {
    match seconds {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.2} ms", s * 1e3),
        s => format!("{:.2} µs", s * 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{Measured, Plan};

    fn stats(median: f64) -> Stats {
        Stats {
            median,
            low: median * 0.9,
            high: median * 1.1,
        }
    }

    /// A SQLite measurement.
    fn measured(work: Work, adapter: f64, raw: f64) -> Measured {
        Measured {
            backend: Backend::Sqlite,
            work,
            adapter: stats(adapter),
            raw: stats(raw),
            raw_on_thread: None,
            adapter_inline: None,
        }
    }

    #[test]
    fn ratios_speedups_and_targets() {
        let results = Results {
            plan: Plan::QUICK,
            one_core: false,
            rows: vec![
                Measured {
                    raw_on_thread: Some(stats(1.6e-6)),
                    adapter_inline: Some(stats(1.2e-6)),
                    ..measured(Work::Get, 2e-6, 1e-6)
                },
                measured(Work::Unit(100), 1e-3, 1e-3),
                measured(Work::Singles(100), 60e-3, 50e-3),
                measured(Work::Committers(1), 1e-3, 1e-3),
                measured(Work::Committers(64), 1e-4, 1e-3),
            ],
        };
        let text = markdown(&results);
        assert!(!text.contains("one CPU core"), "{text}");
        assert!(text.contains("| point get | 2.00 |"), "{text}");
        assert!(text.contains("| unit of 100 ops | 1.00 ✓ ≤ 1.15 |"), "{text}");
        assert!(
            text.contains("| 100 single writes ÷ one 100-op unit | 60.0× (50.0×) |"),
            "{text}"
        );
        assert!(
            text.contains("| commits/s: 64 committers ÷ 1 | 10.0× (1.0×) ✓ ≥ 10× |"),
            "{text}"
        );
        assert!(
            text.contains("| sqlite | 64 committers | 10000 commits/s ±10% | 1000 commits/s ±10% | 0.10 |"),
            "{text}"
        );
        assert!(text.contains("| unit of 10 ops | – |"), "{text}");
        assert!(text.contains("**Targets: 5 of 5 met.**"), "{text}");
        assert!(
            text.contains(
                "sqlite: the raw driver on a thread 1.60 µs ±10%, the adapter 2.00 µs, 1.25× ✓ ≤ 1.3; inline, the raw \
                 driver 1.00 µs, the adapter 1.20 µs ±10%, 1.20× ✓ ≤ 1.3."
            ),
            "{text}"
        );
    }

    #[test]
    fn no_thread_line_without_a_backend_that_reads_on_threads() {
        // Only PostgreSQL's point get: its reads make no hop to a thread.
        let results = Results {
            plan: Plan::QUICK,
            one_core: true,
            rows: vec![Measured {
                backend: Backend::Postgres,
                work: Work::Get,
                adapter: stats(2e-6),
                raw: stats(1e-6),
                raw_on_thread: None,
                adapter_inline: None,
            }],
        };
        let text = markdown(&results);
        assert!(!text.contains("on such a thread"), "{text}");
        assert!(text.contains("pinned to one CPU core (`--one-core`)."), "{text}");
    }

    #[test]
    fn the_targets_missed_are_named() {
        let results = Results {
            plan: Plan::QUICK,
            one_core: false,
            rows: vec![Measured {
                backend: Backend::Redb,
                work: Work::Unit(100),
                adapter: stats(1.5e-3),
                raw: stats(1e-3),
                raw_on_thread: None,
                adapter_inline: None,
            }],
        };
        let text = markdown(&results);
        assert!(
            text.contains("**Targets: 0 of 1 met.** Missed: redb unit of 100 ops."),
            "{text}"
        );
    }

    #[test]
    fn feeds_are_the_adapter_against_itself() {
        let results = Results {
            plan: Plan::QUICK,
            one_core: false,
            rows: vec![measured(Work::Emit, 1.1e-3, 1e-3), measured(Work::Events, 2e-3, 1e-3)],
        };
        let text = markdown(&results);
        assert!(
            text.contains("| one emit: added time, as a share of the unit | +0.10 (1.00 ms → 1.10 ms) |"),
            "{text}"
        );
        assert!(
            text.contains("| events/s in units of 100 emits | 50000 ±10% (2.00× the sets' time) |"),
            "{text}"
        );
        assert!(
            !text.contains("| sqlite | unit of 100 emits"),
            "not against a raw driver: {text}"
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(2.5), "2.50 s");
        assert_eq!(duration(0.0123), "12.30 ms");
        assert_eq!(duration(4.2e-6), "4.20 µs");
    }
}
