//! The chart: the report's ratios as horizontal bars on a log scale (SVG), one colour per
//! backend, a black tick at each target.

use std::fmt::Write as _;

use super::report::SPEEDUPS;
use super::work::Work;
use super::{Backend, Results, Target};

const WIDTH: f64 = 960.0;
const PLOT_LEFT: f64 = 260.0;
const PLOT_RIGHT: f64 = 930.0;
const BAR: f64 = 9.0;
const GROUP_GAP: f64 = 10.0;

struct Bar {
    backend: Backend,
    value: f64,
    target: Option<Target>,
}

struct Group {
    label: String,
    bars: Vec<Bar>,
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
                .filter_map(|&backend| {
                    Some(Bar {
                        backend,
                        value: results.ratio(backend, work)?,
                        target: Target::for_ratio(backend, work),
                    })
                })
                .collect(),
        })
        .collect();
    let speedups: Vec<Group> = SPEEDUPS
        .iter()
        .map(|&(slow, fast, label)| Group {
            label: label.into(),
            bars: backends
                .iter()
                .filter_map(|&backend| {
                    Some(Bar {
                        backend,
                        value: results.speedup(backend, slow, fast, false)?,
                        target: Target::for_speedup(backend, fast),
                    })
                })
                .collect(),
        })
        .collect();

    let mut body = String::new();
    let mut y = legend(&mut body, &backends, 24.0);
    y = panel(
        &mut body,
        y + 20.0,
        "Adapter ÷ raw driver, time per operation (log scale; left of 1: the adapter is faster)",
        &ratios,
    );
    y = panel(&mut body, y + 30.0, "Speed-ups of the adapter (log scale)", &speedups);
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

fn legend(out: &mut String, backends: &[Backend], y: f64) -> f64 {
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
    y
}

/// Draws one panel of bar groups starting at `top`; returns where it ends.
fn panel(out: &mut String, top: f64, title: &str, groups: &[Group]) -> f64 {
    let values = groups.iter().flat_map(|g| g.bars.iter().map(|b| b.value));
    let (min, max) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((0.5_f64, 2.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = (min.log10().floor(), max.log10().ceil());
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
        let stroke = if tick == 1.0 { "#000" } else { "#ddd" };
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{plot_top}\" x2=\"{tx:.1}\" y2=\"{bottom}\" stroke=\"{stroke}\"/>\
             <text x=\"{tx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            bottom + 12.0,
            number(tick)
        );
    }
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
            let (one, end) = (x(1.0), x(bar.value));
            let _ = writeln!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"{}\"><title>{} {}: {:.2}</title></rect>",
                one.min(end),
                y + 1.0,
                (end - one).abs().max(1.0),
                BAR - 2.0,
                colour(bar.backend),
                bar.backend.name(),
                group.label,
                bar.value
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

fn number(value: f64) -> String {
    if value >= 1.0 {
        format!("{value:.0}×")
    } else {
        format!("{value}×")
    }
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
        let svg = svg(&Results {
            plan: Plan::QUICK,
            one_core: false,
            rows,
        });
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // 13 ratios and 5 speed-ups per backend, plus the two legend swatches.
        assert_eq!(svg.matches("<rect").count(), 1 + 2 + 2 * (13 + 5));
        assert!(svg.contains("<title>redb point get: 2.00</title>"));
        assert_eq!(ticks(-1.0, 1.0), vec![0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]);
    }
}
