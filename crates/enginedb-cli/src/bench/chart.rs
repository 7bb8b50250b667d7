//! The chart (SVG): the report's ratios and speed-ups as horizontal bars on a log scale, one
//! colour per backend, a black tick at each target; then the absolute figures behind them —
//! time per operation and commits per second, the adapter's bar solid and the raw driver's
//! pale — each bar labelled with its figure. The title line says the build profile and the run.

use std::fmt::Write as _;

use super::report::{SPEEDUPS, duration};
use super::work::Work;
use super::{Backend, Results, Target};

const WIDTH: f64 = 960.0;
const PLOT_LEFT: f64 = 260.0;
const PLOT_RIGHT: f64 = 880.0;
const BAR: f64 = 9.0;
const GROUP_GAP: f64 = 10.0;

struct Bar {
    backend: Backend,
    value: f64,
    target: Option<Target>,
    /// The raw driver's figure beside the adapter's.
    pale: bool,
}

impl Bar {
    fn adapter(backend: Backend, value: f64, target: Option<Target>) -> Bar {
        Bar {
            backend,
            value,
            target,
            pale: false,
        }
    }
}

struct Group {
    label: String,
    bars: Vec<Bar>,
}

/// What a panel's axis measures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// A ratio: bars grow from 1 either way.
    Ratio,
    /// Seconds per operation, from the left.
    Seconds,
    /// Operations per second, from the left.
    PerSecond,
}

impl Scale {
    fn text(self, value: f64) -> String {
        match self {
            Scale::Ratio if value >= 1.0 => format!("{value:.0}×"),
            Scale::Ratio => format!("{value}×"),
            Scale::Seconds => duration(value),
            Scale::PerSecond if value >= 1000.0 => format!("{:.0}k/s", value / 1000.0),
            Scale::PerSecond => format!("{value:.0}/s"),
        }
    }
}

/// The chart of `results` as an SVG document.
pub(crate) fn svg(results: &Results) -> String {
    let backends = results.backends();
    let ratios: Vec<Group> = Work::ALL
        .iter()
        .map(|&work| Group {
            label: work.label(),
            bars: backends
                .iter()
                .filter_map(|&b| Some(Bar::adapter(b, results.ratio(b, work)?, Target::for_ratio(b, work))))
                .collect(),
        })
        .collect();
    let speedups: Vec<Group> = SPEEDUPS
        .iter()
        .map(|&(slow, fast, label)| Group {
            label: label.into(),
            bars: backends
                .iter()
                .filter_map(|&b| {
                    let value = results.speedup(b, slow, fast, false)?;
                    Some(Bar::adapter(b, value, Target::for_speedup(b, fast)))
                })
                .collect(),
        })
        .collect();
    // Committers as commits per second; everything else as time per operation.
    let absolute = |committers: bool| -> Vec<Group> {
        let value = |median: f64| if committers { 1.0 / median } else { median };
        Work::ALL
            .iter()
            .filter(|work| matches!(work, Work::Committers(_)) == committers)
            .map(|&work| Group {
                label: work.label(),
                bars: results
                    .rows
                    .iter()
                    .filter(|m| m.work == work)
                    .flat_map(|m| {
                        let raw = Bar {
                            pale: true,
                            ..Bar::adapter(m.backend, value(m.raw.median), None)
                        };
                        [Bar::adapter(m.backend, value(m.adapter.median), None), raw]
                    })
                    .collect(),
            })
            .collect()
    };

    let mut body = String::new();
    let mut y = legend(&mut body, results, &backends, 24.0);
    let panels = [
        (
            "Adapter ÷ raw driver, time per operation (log scale; left of 1: the adapter is faster; \
             black tick: the target)",
            ratios,
            Scale::Ratio,
        ),
        ("Speed-ups of the adapter (log scale)", speedups, Scale::Ratio),
        (
            "Time per operation (log scale; solid: the adapter, pale: the raw driver)",
            absolute(false),
            Scale::Seconds,
        ),
        (
            "Commits per second (log scale; solid: the adapter, pale: the raw driver)",
            absolute(true),
            Scale::PerSecond,
        ),
    ];
    for (title, groups, scale) in &panels {
        y = panel(&mut body, y + 30.0, title, groups, *scale);
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{h}\" viewBox=\"0 0 {WIDTH} {h}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n",
        h = y + 20.0
    )
}

fn colour(backend: Backend) -> &'static str {
    match backend {
        Backend::Memory => "#8c8c8c",
        Backend::Sqlite => "#1f77b4",
        Backend::Redb => "#d62728",
        Backend::Postgres => "#2ca02c",
    }
}

/// The title, the run it shows (build profile, samples, data) and the backends' colours.
fn legend(out: &mut String, results: &Results, backends: &[Backend], y: f64) -> f64 {
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{y}\" font-size=\"15\" font-weight=\"bold\">enginedb bench</text>"
    );
    for (i, backend) in backends.iter().enumerate() {
        let x = PLOT_LEFT + 110.0 * i as f64;
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{y}\">{}</text>",
            y - 10.0,
            colour(*backend),
            x + 16.0,
            backend.name()
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{}\" fill=\"#555\">{}</text>",
        y + 18.0,
        super::run_description(results)
    );
    y + 18.0
}

/// Draws one panel of bar groups starting at `top`; returns where it ends.
fn panel(out: &mut String, top: f64, title: &str, groups: &[Group], scale: Scale) -> f64 {
    let values = groups.iter().flat_map(|g| g.bars.iter().map(|b| b.value));
    let start = if scale == Scale::Ratio {
        (0.5_f64, 2.0_f64)
    } else {
        (f64::MAX, f64::MIN)
    };
    let (min, max) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(start, |(lo, hi), v| (lo.min(v), hi.max(v)));
    if min > max {
        return top;
    }
    let (lo, hi) = (min.log10().floor(), max.log10().ceil().max(min.log10().floor() + 1.0));
    let x = |value: f64| {
        let clamped = value.clamp(10f64.powf(lo), 10f64.powf(hi));
        PLOT_LEFT + (clamped.log10() - lo) / (hi - lo) * (PLOT_RIGHT - PLOT_LEFT)
    };
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"{top}\" font-size=\"13\" font-weight=\"bold\">{title}</text>"
    );
    let plot_top = top + 12.0;
    let height: f64 = groups
        .iter()
        .map(|g| g.bars.len().max(1) as f64 * BAR + GROUP_GAP)
        .sum();
    let bottom = plot_top + height;
    for tick in ticks(lo, hi) {
        let tx = x(tick);
        let stroke = if scale == Scale::Ratio && tick == 1.0 {
            "#000"
        } else {
            "#ddd"
        };
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{plot_top}\" x2=\"{tx:.1}\" y2=\"{bottom}\" stroke=\"{stroke}\"/>\
             <text x=\"{tx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            bottom + 12.0,
            scale.text(tick)
        );
    }
    let base = if scale == Scale::Ratio { x(1.0) } else { PLOT_LEFT };
    let mut y = plot_top;
    for group in groups {
        let middle = y + group.bars.len() as f64 * BAR / 2.0 + 4.0;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{middle:.1}\" text-anchor=\"end\">{}</text>",
            PLOT_LEFT - 8.0,
            group.label
        );
        for bar in &group.bars {
            let end = x(bar.value);
            let side = if bar.pale { "raw driver" } else { "adapter" };
            let text = if scale == Scale::Ratio {
                format!("{:.2}", bar.value)
            } else {
                scale.text(bar.value)
            };
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"{}\" fill-opacity=\"{}\">\
                 <title>{} {} ({side}): {text}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"8\" fill=\"#333\">{text}</text>",
                base.min(end),
                y + 1.0,
                (end - base).abs().max(1.0),
                BAR - 2.0,
                colour(bar.backend),
                if bar.pale { 0.35 } else { 1.0 },
                bar.backend.name(),
                group.label,
                base.max(end) + 3.0,
                y + BAR - 1.5,
            );
            if let Some(Target::AtMost(bound) | Target::AtLeast(bound)) = bar.target {
                let tx = x(bound);
                let _ = writeln!(
                    out,
                    "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#000\" stroke-width=\"2\"/>",
                    y,
                    y + BAR
                );
            }
            y += BAR;
        }
        y += GROUP_GAP;
    }
    bottom + 16.0
}

/// 1, 2 and 5 times each power of ten from `10^lo` to `10^hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut power = lo;
    while power <= hi {
        for step in [1.0, 2.0, 5.0] {
            let tick = step * 10f64.powf(power);
            if tick <= 10f64.powf(hi) * 1.0001 {
                ticks.push(tick);
            }
        }
        power += 1.0;
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::Stats;
    use crate::bench::{Measured, Plan};

    #[test]
    fn draws_every_bar_and_target() {
        let stats = |median| Stats {
            median,
            low: median,
            high: median,
        };
        let rows = [Backend::Sqlite, Backend::Redb]
            .into_iter()
            .flat_map(|backend| {
                Work::ALL.into_iter().map(move |work| Measured {
                    backend,
                    work,
                    adapter: stats(2.0),
                    raw: stats(1.0),
                    raw_on_thread: None,
                    adapter_inline: None,
                })
            })
            .collect();
        let results = Results {
            plan: Plan::QUICK,
            one_core: false,
            rows,
        };
        let svg = svg(&results);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // Per backend 13 ratios, 5 speed-ups and 13 works' figures on both sides, plus the
        // background and the two legend swatches.
        assert_eq!(svg.matches("<rect").count(), 1 + 2 + 2 * (13 + 5 + 2 * 13));
        assert!(svg.contains("<title>redb point get (adapter): 2.00</title>"));
        assert!(svg.contains("<title>sqlite 64 committers (raw driver): 1/s</title>"));
        assert!(svg.contains(&super::super::run_description(&results)));
        assert_eq!(ticks(-1.0, 1.0), vec![0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]);
    }
}
