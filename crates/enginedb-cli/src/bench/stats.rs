//! Medians and spread of repeated samples.

/// Summary of the samples of one measurement, in seconds per operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Stats {
    pub(crate) median: f64,
    pub(crate) low: f64,
    pub(crate) high: f64,
}

impl Stats {
    /// The median, lowest and highest of `samples` (all zero when there are none).
    pub(crate) fn of(mut samples: Vec<f64>) -> Stats {
        samples.sort_by(f64::total_cmp);
        let middle = samples.len() / 2;
        let median = match (
            samples.len() % 2,
            samples.get(middle.wrapping_sub(1)),
            samples.get(middle),
        ) {
            (0, Some(a), Some(b)) => (a + b) / 2.0,
            (_, _, Some(m)) => *m,
            _ => 0.0,
        };
        Stats {
            median,
            low: samples.first().copied().unwrap_or(0.0),
            high: samples.last().copied().unwrap_or(0.0),
        }
    }

    /// Half the range of the samples, relative to the median (0.05: ±5 %).
    pub(crate) fn spread(&self) -> f64 {
        if self.median > 0.0 {
            (self.high - self.low) / 2.0 / self.median
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn median_and_spread() {
        let odd = Stats::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((odd.median, odd.low, odd.high), (2.0, 1.0, 3.0));
        assert!((odd.spread() - 0.5).abs() < 1e-12);
        assert_eq!(Stats::of(vec![4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert_eq!(Stats::of(vec![]).spread(), 0.0);
    }
}
