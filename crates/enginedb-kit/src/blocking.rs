//! For adapter authors (not on wasm32): threads that own a blocking resource (a connection, a
//! database handle) and run jobs on it in order, so blocking drivers never run on the async
//! executor — whatever runtime drives the futures, or none. Replies come back over oneshot
//! channels.
//!
//! Each thread has its own queue (a lane), and a job goes to the least busy lane, the first of
//! equals: one caller at a time always finds the same thread, still polling after its last job,
//! and never pays for waking another; concurrent callers spread over the threads.
//!
//! A [`Session`] holds one of the worker's threads for a sequence of commands (an interactive
//! transaction): jobs queued on that thread meanwhile wait behind it, in order, and never run
//! inside it (on a one-thread worker, such as a writer, every job waits). A session whose
//! handle is dropped, or that receives no command for its idle timeout, is ended by its
//! `abandon` function (a rollback), so an abandoned transaction cannot hold the thread forever.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use enginedb::{Error, Result};

type Job<R> = Box<dyn FnOnce(&mut R) + Send>;
type Command<R, S> = Box<dyn FnOnce(&mut R, &mut S) -> Flow + Send>;

/// Whether a session goes on after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Wait for the next command.
    Continue,
    /// The session is over (committed or rolled back): free the thread.
    Done,
}

/// One or more threads, each owning one resource and running the jobs of its own queue in
/// order. The threads end, dropping their resources, when the `Worker` is closed or dropped.
pub struct Worker<R> {
    lanes: Vec<Lane<R>>,
    /// Callers waiting for an answer (see [`LONE_CALLER_POLL`]).
    waiting: AtomicUsize,
    /// Set by [`Worker::close`]: no job is taken any more, and each thread ends after its
    /// current one.
    closed: Arc<AtomicBool>,
    /// Each thread's word that it ended and dropped its resource.
    ended: Mutex<Vec<oneshot::Receiver<()>>>,
}

/// One thread's queue, and how many of its jobs are queued or running.
struct Lane<R> {
    jobs: Sender<Job<R>>,
    busy: Arc<AtomicUsize>,
}

impl<R: Send + 'static> Worker<R> {
    /// Starts one thread per resource, named `{name}-{i}`.
    ///
    /// # Errors
    /// `Backend` when a thread cannot be started, or `InvalidInput` for no resource.
    pub fn spawn(name: &str, resources: Vec<R>) -> Result<Worker<R>> {
        if resources.is_empty() {
            return Err(Error::invalid(format!("{name}: a worker needs at least one resource")));
        }
        let closed = Arc::new(AtomicBool::new(false));
        let mut lanes = Vec::with_capacity(resources.len());
        let mut ended = Vec::with_capacity(resources.len());
        for (i, mut resource) in resources.into_iter().enumerate() {
            let (jobs, queue) = mpsc::channel::<Job<R>>();
            let (end, has_ended) = oneshot::channel();
            let closing = closed.clone();
            thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    while let Some(job) = receive(&queue, Duration::MAX) {
                        job(&mut resource);
                        if closing.load(Ordering::Acquire) {
                            break;
                        }
                    }
                    drop(resource);
                    let _ = end.send(());
                })
                .map_err(|e| Error::backend(name, e))?;
            lanes.push(Lane {
                jobs,
                busy: Arc::new(AtomicUsize::new(0)),
            });
            ended.push(has_ended);
        }
        Ok(Worker {
            lanes,
            waiting: AtomicUsize::new(0),
            closed,
            ended: Mutex::new(ended),
        })
    }

    /// Ends every thread once its current job (or session) is done, and waits until each has
    /// dropped its resource. Jobs not yet started, and every later one, fail with `Closed`.
    /// Closing twice is fine.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for lane in &self.lanes {
            // Wakes a thread waiting for work; one that is gone already needs no waking.
            let _ = lane.jobs.send(Box::new(|_| ()));
        }
        let ended = std::mem::take(&mut *self.ended.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in ended {
            let _ = thread.await;
        }
    }

    /// Jobs queued or running on every thread (a session counts as one).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.lanes.iter().map(|lane| lane.busy.load(Ordering::Acquire)).sum()
    }

    /// Runs `work` on one of the resources and returns its result.
    ///
    /// # Errors
    /// What `work` returns, or `Closed` if the worker is gone.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut R) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(move |resource, done| {
            let outcome = work(resource);
            // Free the lane before answering: the caller's next job may then come back here.
            drop(done);
            // The caller may have stopped waiting; the work is done (or undone) either way.
            let _ = reply.send(outcome);
        })?;
        let waiting = Waiting::enter(&self.waiting);
        let patience = if waiting.alone {
            LONE_CALLER_POLL
        } else {
            POLL_BEFORE_SLEEP
        };
        answer_of(answer, patience).await
    }

    /// Starts a session on one of the threads: `start` opens it (say, `BEGIN`) and returns its
    /// state; commands then run on that thread, in order, until one returns [`Flow::Done`].
    /// If the [`Session`] is dropped first, or no command arrives for `idle`, `abandon` ends it.
    ///
    /// # Errors
    /// What `start` returns, or `Closed` if the worker is gone.
    pub async fn session<S, Start, Abandon>(
        &self,
        start: Start,
        idle: Duration,
        abandon: Abandon,
    ) -> Result<Session<R, S>>
    where
        S: Send + 'static,
        Start: FnOnce(&mut R) -> Result<S> + Send + 'static,
        Abandon: FnOnce(&mut R, S) + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        // The lane stays busy until the session ends (`_busy` is dropped then).
        self.send(move |resource, _busy| {
            let mut state = match start(resource) {
                Ok(state) => state,
                Err(error) => {
                    let _ = reply.send(Err(error));
                    return;
                }
            };
            let (commands, inbox) = mpsc::channel::<Command<R, S>>();
            if reply.send(Ok(Session { commands })).is_err() {
                abandon(resource, state);
                return;
            }
            loop {
                match receive(&inbox, idle) {
                    Some(command) => {
                        if command(resource, &mut state) == Flow::Done {
                            return;
                        }
                    }
                    None => {
                        abandon(resource, state);
                        return;
                    }
                }
            }
        })?;
        answer_of(answer, POLL_BEFORE_SLEEP).await
    }

    /// Queues `job` on the least busy lane (the first of equals), with the [`Busy`] claim it
    /// drops when done.
    fn send(&self, job: impl FnOnce(&mut R, Busy) + Send + 'static) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let lane = self
            .lanes
            .iter()
            .min_by_key(|lane| lane.busy.load(Ordering::Acquire))
            .ok_or(Error::Closed)?;
        lane.busy.fetch_add(1, Ordering::AcqRel);
        let busy = Busy(lane.busy.clone());
        lane.jobs
            .send(Box::new(move |resource| job(resource, busy)))
            .map_err(|_| Error::Closed)
    }
}

/// A job's claim on its lane: counted busy until dropped.
struct Busy(Arc<AtomicUsize>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A caller counted as waiting for its worker's answer while this lives.
struct Waiting<'a> {
    count: &'a AtomicUsize,
    /// No other caller was waiting when this one began.
    alone: bool,
}

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Waiting<'a> {
        let alone = count.fetch_add(1, Ordering::AcqRel) == 0;
        Waiting { count, alone }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Waits for a worker's answer: first by polling it for up to `patience`, yielding to the
/// executor between polls (an answer that comes meanwhile costs no wake-up), then by sleeping
/// until it comes. After [`spin_before_yield`] each poll also yields the core, so a worker
/// thread sharing it (one core, or more threads than cores) runs the job instead of waiting out
/// the caller's patience.
pub(crate) async fn answer_of<T>(mut answer: oneshot::Receiver<Result<T>>, patience: Duration) -> Result<T> {
    let started = Instant::now();
    loop {
        match answer.try_recv() {
            Ok(Some(outcome)) => return outcome,
            Ok(None) => match started.elapsed() {
                polled if polled < spin_before_yield() => {}
                polled if polled < patience => thread::yield_now(),
                _ => break,
            },
            Err(_) => return Err(Error::Closed),
        }
        enginedb::port::YieldNow::default().await;
    }
    answer.await.map_err(|_| Error::Closed)?
}

/// How long a worker thread, or a caller awaiting its answer, keeps polling before it sleeps:
/// back-to-back jobs and short answers then skip a wake-up, which costs tens of microseconds
/// on virtual machines. Callers yield to the executor between polls, threads spin; both yield
/// their core between polls after [`spin_before_yield`].
pub(crate) const POLL_BEFORE_SLEEP: Duration = Duration::from_micros(50);

/// How long a caller waiting alone for its worker's answer polls (about one durable commit
/// here): one caller at a time then never sleeps through a commit and pays a wake-up, which
/// costs tens of microseconds on virtual machines. While others wait too, callers poll only for
/// [`POLL_BEFORE_SLEEP`], so many waiters do not take the cores the commits need.
const LONE_CALLER_POLL: Duration = Duration::from_micros(500);

/// How long a worker thread, or a caller awaiting its answer, polls without a system call
/// before it starts yielding its core between polls: the next job of a caller that is waiting
/// for each answer, and most short answers, come within it. With one core, nothing: whoever
/// could answer needs that core.
fn spin_before_yield() -> Duration {
    static SPIN: OnceLock<Duration> = OnceLock::new();
    *SPIN.get_or_init(|| match thread::available_parallelism() {
        Ok(cores) if cores.get() == 1 => Duration::ZERO,
        _ => Duration::from_micros(5),
    })
}

/// The next message of `receiver`, polled for [`POLL_BEFORE_SLEEP`], then awaited up to
/// `timeout`; `None` when the timeout passed or every sender is gone.
fn receive<T>(receiver: &Receiver<T>, timeout: Duration) -> Option<T> {
    let started = Instant::now();
    loop {
        match receiver.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => match started.elapsed() {
                polled if polled < spin_before_yield() => std::hint::spin_loop(),
                polled if polled < POLL_BEFORE_SLEEP => thread::yield_now(),
                _ => return receiver.recv_timeout(timeout).ok(),
            },
        }
    }
}

/// A sequence of commands holding one worker thread; see [`Worker::session`].
pub struct Session<R, S> {
    commands: Sender<Command<R, S>>,
}

impl<R: 'static, S: 'static> Session<R, S> {
    /// Runs `command` in the session; it says whether the session goes on.
    ///
    /// # Errors
    /// What `command` returns, or `Closed` once the session has ended (after `Flow::Done`, or
    /// when it was abandoned for being idle).
    pub async fn call<T, F>(&self, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut R, &mut S) -> (Result<T>, Flow) + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let command: Command<R, S> = Box::new(move |resource, state| {
            let (result, flow) = command(resource, state);
            let _ = reply.send(result);
            flow
        });
        self.commands.send(command).map_err(|_| Error::Closed)?;
        answer_of(answer, POLL_BEFORE_SLEEP).await
    }
}

/// Runs `open` on a thread of its own and returns what it returns: opening a database blocks
/// (files, locks, recovery), and must not block the async executor.
///
/// # Errors
/// What `open` returns; `Backend` when the thread cannot be started; `Closed` if it panicked.
pub async fn open_on_thread<T, F>(name: &str, open: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = reply.send(open());
        })
        .map_err(|e| Error::backend(name.to_owned(), e))?;
    answer.await.map_err(|_| Error::Closed)?
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    /// Which thread (resource) a session holds.
    async fn held(session: &Session<usize, usize>) -> Option<usize> {
        session.call(|_, id| (Ok(*id), Flow::Continue)).await.ok()
    }

    /// Which thread (resource) a job ran on.
    async fn whose(worker: &Worker<usize>) -> usize {
        worker.run(|id| Ok(*id)).await.expect("a job")
    }

    #[test]
    fn one_caller_at_a_time_stays_on_the_first_thread() {
        block_on(async {
            let worker = Worker::spawn("test", vec![0, 1, 2]).expect("spawn");
            for _ in 0..200 {
                assert_eq!(whose(&worker).await, 0);
            }
        });
    }

    #[test]
    fn jobs_go_around_a_thread_held_by_a_session_and_queue_behind_it_when_none_is_free() {
        block_on(async {
            let worker = Arc::new(Worker::spawn("test", vec![0, 1]).expect("spawn"));
            let idle = Duration::from_secs(60);
            let first = worker.session(|id| Ok(*id), idle, |_, _| ()).await.expect("session");
            assert_eq!(held(&first).await, Some(0));
            assert_eq!(whose(&worker).await, 1, "the free thread takes the job");

            let second = worker.session(|id| Ok(*id), idle, |_, _| ()).await.expect("session");
            assert_eq!(held(&second).await, Some(1));
            let waiting = tokio::spawn({
                let worker = worker.clone();
                async move { whose(&worker).await }
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!waiting.is_finished(), "both threads are held: the job waits");
            first.call(|_, _| (Ok(()), Flow::Done)).await.expect("end the session");
            assert_eq!(waiting.await.ok(), Some(0), "it runs once the session ends");
            second.call(|_, _| (Ok(()), Flow::Done)).await.expect("end the session");
        });
    }

    #[test]
    fn a_caller_that_stops_waiting_is_no_longer_counted() {
        block_on(async {
            let worker = Worker::spawn("test", vec![0]).expect("spawn");
            let slow = worker.run(|_| {
                thread::sleep(Duration::from_millis(50));
                Ok(())
            });
            assert!(tokio::time::timeout(Duration::from_millis(1), slow).await.is_err());
            assert_eq!(worker.waiting.load(Ordering::Acquire), 0);
            assert_eq!(whose(&worker).await, 0, "the worker goes on");
        });
    }

    #[test]
    fn close_drops_every_resource_and_refuses_later_jobs() {
        block_on(async {
            let (dropped, resources): (Vec<_>, Vec<_>) = (0..3)
                .map(|_| {
                    let resource = Arc::new(());
                    (Arc::downgrade(&resource), resource)
                })
                .unzip();
            let worker = Worker::spawn("test", resources).expect("spawn");
            assert!(worker.run(|_| Ok(())).await.is_ok());
            worker.close().await;
            assert!(
                dropped.iter().all(|weak| weak.upgrade().is_none()),
                "every resource dropped"
            );
            assert_eq!(
                worker.run(|_| Ok(())).await.unwrap_err().kind(),
                enginedb::ErrorKind::Closed
            );
            worker.close().await;
        });
    }

    #[test]
    fn a_worker_needs_a_resource() {
        assert!(Worker::<usize>::spawn("test", Vec::new()).is_err());
    }
}
