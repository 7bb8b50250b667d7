//! Threads that own connections. Async callers hand them jobs and await the reply, so blocking
//! SQLite work never runs on the async executor, whatever runtime it is.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use enginedb::{Error, Result};
use futures::channel::oneshot;
use rusqlite::Connection;

/// Work for a connection's thread.
pub(crate) type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// One or more threads, each owning a connection, taking jobs in order from one queue.
pub(crate) struct Worker {
    jobs: Sender<Job>,
}

impl Worker {
    /// One thread per connection; each takes the next job from the shared queue. The threads
    /// end (closing their connections) when the `Worker` is dropped.
    pub(crate) fn spawn(name: &str, connections: Vec<Connection>) -> Result<Worker> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for (i, mut connection) in connections.into_iter().enumerate() {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("enginedb-sqlite-{name}-{i}"))
                .spawn(move || {
                    while let Some(job) = next(&queue) {
                        job(&mut connection);
                    }
                })
                .map_err(|e| Error::backend("sqlite", e))?;
        }
        Ok(Worker { jobs })
    }

    /// Queues `job` without waiting for it.
    pub(crate) fn send(&self, job: Job) -> Result<()> {
        self.jobs.send(job).map_err(|_| Error::Closed)
    }

    /// Runs `work` on a connection of this worker and returns its result.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(Box::new(move |connection| {
            // The caller may have stopped waiting; the work is done (or rolled back) either way.
            let _ = reply.send(work(connection));
        }))?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

fn next(queue: &Mutex<Receiver<Job>>) -> Option<Job> {
    // A poisoned lock only means another thread panicked while waiting: the queue is intact.
    queue.lock().unwrap_or_else(PoisonError::into_inner).recv().ok()
}
