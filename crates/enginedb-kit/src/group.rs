//! Adaptive group commit: a unit that arrives while the writer is idle commits at once, alone;
//! units that queue while a commit is in flight share the next one (one transaction, one
//! durable flush). The adapter's commit function runs the group and says how each unit fared,
//! so a unit that fails fails alone; if the group's transaction itself fails, every unit of it
//! gets that error.

use std::sync::{Arc, Mutex, PoisonError};

use enginedb::port::{EncodedWrite, replicate};
use enginedb::{Error, Result, Version};
use futures::channel::oneshot;

use crate::blocking::{POLL_BEFORE_SLEEP, Worker, answer_of};

/// A validated unit waiting for the writer.
#[derive(Debug)]
pub struct Unit {
    /// The namespace it writes in.
    pub namespace: Arc<str>,
    /// Its ops, encoded.
    pub ops: Vec<EncodedWrite>,
}

/// Units waiting to be committed together: a caller queues its unit; the one that finds the
/// queue empty also runs a job on the writer, which takes everything queued by then, commits
/// it as one group, and answers each unit. Units queued while that job waits or commits ride
/// on it or on the next one, without a job (a hop to the writer) of their own.
pub struct CommitQueue<U> {
    pending: Mutex<Vec<(U, Reply)>>,
}

struct Reply(oneshot::Sender<Result<Version>>);

impl<U> Default for CommitQueue<U> {
    fn default() -> Self {
        CommitQueue {
            pending: Mutex::new(Vec::new()),
        }
    }
}

impl<U> CommitQueue<U> {
    /// Queues `unit`; returns where its answer comes, and whether the queue was empty (then
    /// this caller must see that a job takes it).
    fn push(&self, unit: U) -> (oneshot::Receiver<Result<Version>>, bool) {
        let (reply, answer) = oneshot::channel();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.push((unit, Reply(reply)));
        (answer, pending.len() == 1)
    }

    /// Everything queued so far, in queue order.
    fn take(&self) -> Vec<(U, Reply)> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<U: Send + 'static> CommitQueue<U> {
    /// Queues `unit` and returns its outcome once a job on `worker` has handed it, with
    /// everything else queued by then, to `commit`; the caller that found the queue empty
    /// runs that job. `commit` returns one outcome per unit, in order, or the error of the
    /// whole group (then no unit of it was written, or — `OutcomeUnknown` — maybe all were).
    ///
    /// # Errors
    /// The unit's own error, the group's, or `Closed` if the worker is gone.
    pub async fn submit<R, F>(self: &Arc<Self>, worker: &Worker<R>, unit: U, commit: F) -> Result<Version>
    where
        R: Send + 'static,
        F: FnOnce(&mut R, &[U]) -> Result<Vec<Result<Version>>> + Send + 'static,
    {
        let (answer, first) = self.push(unit);
        if first {
            let unrun = Unrun(Some(self.clone()));
            let committed = worker
                .run(move |resource| {
                    let queue = unrun.disarm();
                    let (units, replies): (Vec<U>, Vec<Reply>) = queue.take().into_iter().unzip();
                    if !units.is_empty() {
                        answer_all(replies, commit(resource, &units));
                    }
                    Ok(())
                })
                .await;
            // A job that never ran has answered what was queued (`Unrun`).
            committed?;
        }
        answer_of(answer, POLL_BEFORE_SLEEP).await
    }
}

/// A commit job's hold on its queue: if the job is dropped without running (its worker was
/// closed), the units it would have taken are answered `Closed` instead of waiting forever.
struct Unrun<U>(Option<Arc<CommitQueue<U>>>);

impl<U> Unrun<U> {
    /// The queue, for the job that runs.
    fn disarm(mut self) -> Arc<CommitQueue<U>> {
        self.0.take().unwrap_or_default()
    }
}

impl<U> Drop for Unrun<U> {
    fn drop(&mut self) {
        if let Some(queue) = self.0.take() {
            for (_, reply) in queue.take() {
                let _ = reply.0.send(Err(Error::Closed));
            }
        }
    }
}

/// Answers each unit's caller (who may have stopped waiting).
fn answer_all(replies: Vec<Reply>, outcomes: Result<Vec<Result<Version>>>) {
    match outcomes {
        Ok(outcomes) => {
            let mut outcomes = outcomes.into_iter();
            for reply in replies {
                let outcome = outcomes.next().unwrap_or_else(|| {
                    Err(Error::backend(
                        "enginedb-kit",
                        "the group commit answered fewer units than it was given",
                    ))
                });
                let _ = reply.0.send(outcome);
            }
        }
        Err(error) => replies.into_iter().for_each(|reply| {
            let _ = reply.0.send(Err(replicate(&error)));
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    #[test]
    fn units_queued_while_the_writer_is_held_commit_as_one_group_from_one_job() {
        block_on(async {
            // The resource records the size of each group it commits.
            let writer = Arc::new(Worker::spawn("test", vec![Vec::<usize>::new()]).expect("spawn"));
            let queue = Arc::new(CommitQueue::<u64>::default());
            let held = writer
                .session(|_| Ok(()), Duration::from_secs(60), |_, _| ())
                .await
                .expect("session");
            let units: Vec<_> = (1..=10u64)
                .map(|unit| {
                    let (writer, queue) = (writer.clone(), queue.clone());
                    tokio::spawn(async move {
                        let commit = |groups: &mut Vec<usize>, units: &[u64]| {
                            groups.push(units.len());
                            Ok(units.iter().map(|u| Ok(Version(*u))).collect())
                        };
                        queue.submit(&writer, unit, commit).await
                    })
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(writer.queued(), 2, "the session and one job: the first unit's");
            held.call(|_, _| (Ok(()), crate::blocking::Flow::Done))
                .await
                .expect("end the session");
            for (unit, task) in (1..=10u64).zip(units) {
                assert_eq!(task.await.ok().and_then(Result::ok), Some(Version(unit)));
            }
            let groups = writer.run(|groups| Ok(groups.clone())).await.ok();
            assert_eq!(groups, Some(vec![10]), "one job, one group");
        });
    }

    /// The leader's job is dropped unrun (the worker closes while a session holds it) after the
    /// leader stopped waiting: the units that rode on it are answered, not left waiting.
    #[test]
    fn units_whose_job_never_runs_are_answered_closed() {
        block_on(async {
            let writer = Arc::new(Worker::spawn("test", vec![()]).expect("spawn"));
            let queue = Arc::new(CommitQueue::<u64>::default());
            let held = writer
                .session(|_| Ok(()), Duration::from_secs(60), |_, _| ())
                .await
                .expect("session");
            let units: Vec<_> = (1..=3u64)
                .map(|unit| {
                    let (writer, queue) = (writer.clone(), queue.clone());
                    tokio::spawn(async move {
                        let commit = |_: &mut (), units: &[u64]| Ok(units.iter().map(|u| Ok(Version(*u))).collect());
                        queue.submit(&writer, unit, commit).await
                    })
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(20)).await;
            // The leader, whose job waits behind the session, stops waiting.
            let mut units = units.into_iter();
            units.next().expect("the first unit").abort();
            tokio::time::sleep(Duration::from_millis(20)).await;
            let closing = tokio::spawn({
                let writer = writer.clone();
                async move { writer.close().await }
            });
            tokio::time::sleep(Duration::from_millis(20)).await;
            held.call(|_, _| (Ok(()), crate::blocking::Flow::Done))
                .await
                .expect("end the session");
            closing.await.expect("closed");
            for task in units {
                let outcome = tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .expect("answered, not left waiting");
                assert_eq!(outcome.expect("task").unwrap_err().kind(), enginedb::ErrorKind::Closed);
            }
        });
    }

    #[test]
    fn a_failed_group_answers_every_unit_with_its_error() {
        block_on(async {
            let writer = Arc::new(Worker::spawn("test", vec![()]).expect("spawn"));
            let queue = Arc::new(CommitQueue::<u64>::default());
            let commit = |_: &mut (), _: &[u64]| {
                Err(Error::OutcomeUnknown {
                    message: "the disk went away".into(),
                })
            };
            let error = queue.submit(&writer, 1, commit).await.unwrap_err();
            assert_eq!(error.kind(), enginedb::ErrorKind::OutcomeUnknown);
        });
    }
}
