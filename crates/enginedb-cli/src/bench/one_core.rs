//! `--one-core`: the whole run on one CPU core, as on a one-core machine or container, where
//! callers and the adapters' threads take turns on the same core.

use enginedb::{Error, Result};

/// Pins the calling thread to the first core it may run on, and returns that core. Threads and
/// processes it starts afterwards inherit the pin, so call it before starting any.
///
/// # Errors
/// `Backend` when the kernel refuses; `InvalidInput` off Linux.
#[cfg(target_os = "linux")]
pub(crate) fn pin() -> Result<usize> {
    use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
    let fail = |error| Error::backend("bench --one-core", error);
    let allowed = sched_getaffinity(None).map_err(fail)?;
    let core = (0..CpuSet::MAX_CPU)
        .find(|&cpu| allowed.is_set(cpu))
        .ok_or_else(|| Error::invalid("--one-core: this thread may run on no core"))?;
    let mut one = CpuSet::new();
    one.set(core);
    sched_setaffinity(None, &one).map_err(fail)?;
    Ok(core)
}

/// Pins the calling thread to one core: Linux only.
///
/// # Errors
/// Always `InvalidInput`.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pin() -> Result<usize> {
    Err(Error::invalid("--one-core is only supported on Linux"))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::thread::sched_getaffinity;

    #[test]
    fn pins_the_thread_and_the_threads_it_starts() {
        let before = sched_getaffinity(None).expect("affinity").count();
        let (core, inherited) = std::thread::spawn(|| {
            let core = super::pin().expect("pinned");
            let mine = sched_getaffinity(None).expect("affinity");
            assert!(mine.count() == 1 && mine.is_set(core), "only the chosen core");
            let child = std::thread::spawn(|| sched_getaffinity(None).expect("affinity"));
            (core, child.join().expect("child"))
        })
        .join()
        .expect("pinned thread");
        assert!(
            inherited.count() == 1 && inherited.is_set(core),
            "a thread started later inherits it"
        );
        assert_eq!(
            sched_getaffinity(None).expect("affinity").count(),
            before,
            "other threads keep theirs"
        );
    }
}
