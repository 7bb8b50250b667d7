//! The round trip every SQLite and redb read pays and a raw driver's read does not: the
//! adapters run blocking drivers on their own threads (DESIGN §6), so a read is a job sent to
//! an `enginedb::blocking::Worker` thread and an answer sent back. Timed here with an empty job,
//! in the same run as the reads, so the report can say how much of a point read's ratio it is.

use std::time::Instant;

use enginedb::Result;
use enginedb::blocking::Worker;

use super::stats::Stats;
use super::work::Plan;

/// Seconds per round trip of an empty job to a worker thread: `plan.reads` one after the
/// other per sample, as the point gets are timed, after as many untimed (the thread starting).
///
/// # Errors
/// `Backend` when the thread cannot be started.
pub(crate) async fn measure(plan: Plan) -> Result<Stats> {
    let worker = Worker::spawn("enginedb-bench-round-trip", vec![()])?;
    let mut samples = Vec::with_capacity(plan.samples);
    // Sample 0 is the warm-up, not kept.
    for sample in 0..=plan.samples {
        let started = Instant::now();
        for _ in 0..plan.reads {
            worker.run(|_| Ok(())).await?;
        }
        if sample > 0 {
            samples.push(started.elapsed().as_secs_f64() / plan.reads as f64);
        }
    }
    Ok(Stats::of(samples))
}
