//! For adapter authors (not on wasm32): threads that own a blocking resource (a connection, a
//! database handle) and run jobs on it in order, so blocking drivers never run on the async
//! executor — whatever runtime drives the futures, or none. Replies come back over oneshot
//! channels.
//!
//! A [`Session`] holds one of the worker's threads for a sequence of commands (an interactive
//! transaction): jobs sent to the worker meanwhile wait behind it, in order, and never run inside
//! it. A session whose handle is dropped, or that receives no command for its idle timeout, is
//! ended by its `abandon` function (a rollback), so an abandoned transaction cannot hold the
//! thread forever.

use std::future::Future;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::error::{Error, Result};

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

/// One or more threads, each owning one resource, taking jobs in order from one queue. The
/// threads end, dropping their resources, when the `Worker` is dropped.
pub struct Worker<R> {
    jobs: Sender<Job<R>>,
}

impl<R: Send + 'static> Worker<R> {
    /// Starts one thread per resource, named `{name}-{i}`.
    ///
    /// # Errors
    /// `Backend` when a thread cannot be started.
    pub fn spawn(name: &str, resources: Vec<R>) -> Result<Worker<R>> {
        let (jobs, queue) = mpsc::channel::<Job<R>>();
        let queue = Arc::new(Mutex::new(queue));
        for (i, mut resource) in resources.into_iter().enumerate() {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    while let Some(job) = next(&queue) {
                        job(&mut resource);
                    }
                })
                .map_err(|e| Error::backend(name, e))?;
        }
        Ok(Worker { jobs })
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
        self.send(Box::new(move |resource| {
            // The caller may have stopped waiting; the work is done (or undone) either way.
            let _ = reply.send(work(resource));
        }))?;
        answer_of(answer).await
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
        self.send(Box::new(move |resource| {
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
        }))?;
        answer_of(answer).await
    }

    fn send(&self, job: Job<R>) -> Result<()> {
        self.jobs.send(job).map_err(|_| Error::Closed)
    }
}

/// Waits for a worker's answer: first by polling it for a moment, yielding to the executor
/// between polls (a short job answers before this thread would have gone to sleep and been
/// woken again), then by sleeping until it comes.
async fn answer_of<T>(mut answer: oneshot::Receiver<Result<T>>) -> Result<T> {
    let deadline = Instant::now() + POLL_BEFORE_SLEEP;
    while Instant::now() < deadline {
        match answer.try_recv() {
            Ok(Some(outcome)) => return outcome,
            Ok(None) => crate::port::YieldNow::default().await,
            Err(_) => return Err(Error::Closed),
        }
    }
    answer.await.map_err(|_| Error::Closed)?
}

/// How long a worker thread, or a caller awaiting its answer, keeps polling before it sleeps:
/// back-to-back jobs and short answers then skip a wake-up, which costs tens of microseconds
/// on virtual machines. Threads yield their core between polls; callers yield to the executor.
const POLL_BEFORE_SLEEP: Duration = Duration::from_micros(50);

fn next<R>(queue: &Mutex<Receiver<Job<R>>>) -> Option<Job<R>> {
    // A poisoned lock only means another thread panicked while waiting: the queue is intact.
    receive(&queue.lock().unwrap_or_else(PoisonError::into_inner), Duration::MAX)
}

/// The next message of `receiver`, polled for [`POLL_BEFORE_SLEEP`], then awaited up to
/// `timeout`; `None` when the timeout passed or every sender is gone.
fn receive<T>(receiver: &Receiver<T>, timeout: Duration) -> Option<T> {
    let polling = Instant::now() + POLL_BEFORE_SLEEP;
    loop {
        match receiver.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if Instant::now() < polling => thread::yield_now(),
            Err(TryRecvError::Empty) => return receiver.recv_timeout(timeout).ok(),
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
        answer_of(answer).await
    }
}

/// Units waiting to be committed together (group commit): callers [`push`](CommitQueue::push)
/// a unit and await its reply; a job on the writer [`take`](CommitQueue::take)s everything
/// queued so far, commits it as one group, and answers each unit.
pub struct CommitQueue<U> {
    pending: Mutex<Vec<(U, Reply)>>,
}

/// The answer to one queued unit: its version, or its own error.
pub struct Reply(oneshot::Sender<Result<crate::Version>>);

impl Reply {
    /// Answers the unit's caller (who may have stopped waiting).
    pub fn send(self, outcome: Result<crate::Version>) {
        let _ = self.0.send(outcome);
    }
}

impl<U> Default for CommitQueue<U> {
    fn default() -> Self {
        CommitQueue {
            pending: Mutex::new(Vec::new()),
        }
    }
}

impl<U> CommitQueue<U> {
    /// Queues `unit`; the future resolves once a writer job has committed (or refused) it.
    pub fn push(&self, unit: U) -> impl Future<Output = Result<crate::Version>> + use<U> {
        let (reply, answer) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((unit, Reply(reply)));
        async move { answer.await.map_err(|_| Error::Closed)? }
    }

    /// Everything queued so far, in queue order.
    pub fn take(&self) -> Vec<(U, Reply)> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<U: Send + 'static> CommitQueue<U> {
    /// Queues `unit`, then runs a job on `worker` that hands everything queued by then to
    /// `commit_all` (this unit included, unless an earlier job already took it); returns this
    /// unit's outcome. `commit_all` must answer every reply it is given.
    ///
    /// # Errors
    /// The unit's own error, or `Closed` if the worker is gone.
    pub async fn submit<R, F>(self: &Arc<Self>, worker: &Worker<R>, unit: U, commit_all: F) -> Result<crate::Version>
    where
        R: Send + 'static,
        F: FnOnce(&mut R, Vec<(U, Reply)>) + Send + 'static,
    {
        let answer = self.push(unit);
        let queue = self.clone();
        worker
            .run(move |resource| {
                let units = queue.take();
                if !units.is_empty() {
                    commit_all(resource, units);
                }
                Ok(())
            })
            .await?;
        answer.await
    }
}
