//! Queues (DESIGN §11): enqueued with a unit, leased on receipt, acknowledged in the
//! consumer's unit, delivered again after the lease and backoff, dead-lettered when spent.
//! Time is a [`ManualClock`] the case moves.

use std::time::{Duration, UNIX_EPOCH};

use enginedb::{Db, Error, ErrorKind, ManualClock, Message, Mode, Queue, QueueOptions, Value, Version, Write};

use crate::{CaseResult, Ctx};

/// A queue of this case's own (cases share a store), on a handle whose clock the case moves:
/// leases of 30 s, a backoff of 1 s doubling, at most 3 deliveries.
fn setup(cx: &Ctx<'_>) -> (Db, ManualClock, String) {
    let clock = ManualClock::at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let db = cx.db().clone().with_clock(clock.clone());
    (db, clock, format!("{}", cx.root()))
}

fn queue<'db>(db: &'db Db, name: &str) -> Queue<'db> {
    db.queue(name).options(QueueOptions {
        visibility: Duration::from_secs(30),
        max_attempts: 3,
        backoff: Duration::from_secs(1),
        ..QueueOptions::default()
    })
}

/// Receives every ready message (bounded), returning their payloads.
async fn receive_all(queue: &Queue<'_>) -> Result<Vec<Value>, Error> {
    let mut payloads = Vec::new();
    for _ in 0..50 {
        match queue.receive().await? {
            Some(message) => payloads.push(message.payload),
            None => break,
        }
    }
    Ok(payloads)
}

/// A message exists exactly when its unit's writes do; received, it is leased: a second
/// receive finds nothing.
pub async fn messages_enqueue_with_their_unit(cx: &Ctx<'_>) -> CaseResult {
    let (db, _clock, name) = setup(cx);
    let failed = db
        .atomic()
        .enqueue(&name, "lost")
        .check(cx.key("absent"), Version(1))
        .commit()
        .await;
    ensure!(failed.is_err(), "the check cannot hold");
    db.atomic()
        .set(cx.key("msg"), "hi")
        .enqueue(&name, "sent")
        .commit()
        .await?;
    let queue = queue(&db, &name);
    let message = ensure_some!(queue.receive().await?, "the message is ready");
    ensure_eq!(message.payload, Value::from("sent"), "its payload");
    ensure_eq!(message.attempts, 1, "its first delivery");
    ensure!(queue.receive().await?.is_none(), "leased: nothing else is ready");
    Ok(())
}

/// Messages ready at the same time come in the order they were enqueued, also within a unit.
pub async fn ready_messages_come_in_enqueue_order(cx: &Ctx<'_>) -> CaseResult {
    let (db, _clock, name) = setup(cx);
    db.atomic().enqueue(&name, "a").commit().await?;
    db.atomic().enqueue(&name, "b").enqueue(&name, "c").commit().await?;
    if cx.mode() == Mode::Sequential {
        db.atomic().enqueue(&name, "d").commit().await?;
    } else {
        db.transact(async |tx| {
            tx.enqueue(&name, "d");
            Ok::<_, Error>(())
        })
        .await?;
    }
    let received = receive_all(&queue(&db, &name)).await?;
    ensure_eq!(
        received,
        vec![Value::from("a"), "b".into(), "c".into(), "d".into()],
        "enqueue order"
    );
    Ok(())
}

/// A delayed message is not ready before its delay has passed.
pub async fn delayed_messages_wait(cx: &Ctx<'_>) -> CaseResult {
    let (db, clock, name) = setup(cx);
    db.atomic()
        .enqueue_in(&name, "later", Duration::from_secs(10))
        .enqueue(&name, "now")
        .commit()
        .await?;
    let queue = queue(&db, &name);
    ensure_eq!(
        receive_all(&queue).await?,
        vec![Value::from("now")],
        "only the undelayed one"
    );
    clock.advance(Duration::from_secs(9));
    ensure!(queue.receive().await?.is_none(), "9 s: still waiting");
    clock.advance(Duration::from_secs(1));
    ensure_eq!(receive_all(&queue).await?, vec![Value::from("later")], "10 s: ready");
    Ok(())
}

/// A message not acknowledged within its lease is delivered again after the backoff; the
/// first delivery's acknowledgement then fails, the second's succeeds, and nothing returns.
pub async fn unacknowledged_messages_return_after_lease_and_backoff(cx: &Ctx<'_>) -> CaseResult {
    let (db, clock, name) = setup(cx);
    db.atomic().enqueue(&name, "job").commit().await?;
    let queue = queue(&db, &name);
    let first = ensure_some!(queue.receive().await?, "delivered");
    clock.advance(Duration::from_secs(30));
    ensure!(queue.receive().await?.is_none(), "the lease ended, the backoff has not");
    clock.advance(Duration::from_secs(1));
    let second = ensure_some!(queue.receive().await?, "delivered again");
    ensure_eq!(
        (second.id, second.attempts),
        (first.id, 2),
        "the same message, second attempt"
    );
    ensure_err!(
        queue.ack(&first).await,
        ErrorKind::CheckFailed,
        "the first lease is gone"
    );
    queue.ack(&second).await?;
    clock.advance(Duration::from_secs(3_600));
    ensure!(queue.receive().await?.is_none(), "acknowledged: gone for good");
    Ok(())
}

/// The acknowledgement commits with the consumer's writes or not at all, in a unit and in a
/// transaction.
pub async fn acknowledgement_commits_with_the_consumers_writes(cx: &Ctx<'_>) -> CaseResult {
    let (db, clock, name) = setup(cx);
    db.atomic().enqueue(&name, 1).commit().await?;
    let queue = queue(&db, &name);
    let message = ensure_some!(queue.receive().await?, "delivered");
    let failed = db
        .atomic()
        .set(cx.key("effect"), "applied")
        .ack(&message)
        .check(cx.key("absent"), Version(1))
        .commit()
        .await;
    ensure!(failed.is_err(), "the check cannot hold");
    ensure!(db.get(&cx.key("effect")).await?.is_none(), "no effect");
    clock.advance(Duration::from_secs(31));
    let again = ensure_some!(queue.receive().await?, "not acknowledged: delivered again");
    ensure_eq!(again.id, message.id, "the same message");
    db.atomic()
        .set(cx.key("effect"), "applied")
        .ack(&again)
        .commit()
        .await?;
    ensure!(db.get(&cx.key("effect")).await?.is_some(), "the effect");
    db.atomic().enqueue(&name, 2).commit().await?;
    let other = ensure_some!(queue.receive().await?, "the other message");
    db.transact(async |tx| {
        tx.set(cx.key("other"), "applied");
        tx.ack(&other);
        Ok::<_, Error>(())
    })
    .await?;
    ensure!(db.get(&cx.key("other")).await?.is_some(), "the transaction's effect");
    clock.advance(Duration::from_secs(3_600));
    ensure!(queue.receive().await?.is_none(), "both acknowledged");
    Ok(())
}

/// After `max_attempts` deliveries a message is a dead letter, released or not; acknowledging
/// a dead letter deletes it.
pub async fn spent_messages_become_dead_letters(cx: &Ctx<'_>) -> CaseResult {
    let (db, clock, name) = setup(cx);
    db.atomic().enqueue(&name, "poison").commit().await?;
    let queue = queue(&db, &name);
    let mut attempts = Vec::new();
    for _ in 0..10 {
        clock.advance(Duration::from_secs(60));
        match queue.receive().await? {
            Some(message) => attempts.push(message.attempts),
            None => break,
        }
    }
    ensure_eq!(attempts, vec![1, 2, 3], "three deliveries, then none");
    let dead = queue.dead_letters(10).await?;
    ensure_eq!(
        dead.iter().map(|m| (m.payload.clone(), m.attempts)).collect::<Vec<_>>(),
        vec![(Value::from("poison"), 3)],
        "one dead letter"
    );
    // A released message comes back after the backoff; released when spent, it is dead.
    db.atomic().enqueue(&name, "released").commit().await?;
    let mut message: Message = ensure_some!(queue.receive().await?, "delivered");
    for attempt in 2..=3 {
        queue.release(&message).await?;
        ensure!(queue.receive().await?.is_none(), "released: the backoff first");
        clock.advance(Duration::from_secs(4));
        message = ensure_some!(queue.receive().await?, "delivered again");
        ensure_eq!(message.attempts, attempt, "attempt");
    }
    queue.release(&message).await?;
    clock.advance(Duration::from_secs(3_600));
    ensure!(queue.receive().await?.is_none(), "spent");
    ensure_eq!(queue.dead_letters(10).await?.len(), 2, "two dead letters");
    for letter in queue.dead_letters(10).await? {
        queue.ack(&letter).await?;
    }
    ensure!(
        queue.dead_letters(10).await?.is_empty(),
        "acknowledged dead letters are gone"
    );
    Ok(())
}

/// A message released — even at the very end of its lease, when its next place is the one
/// it holds — comes back after the backoff; a released dead letter stays one.
pub async fn released_messages_come_back(cx: &Ctx<'_>) -> CaseResult {
    let (db, clock, name) = setup(cx);
    db.atomic().enqueue(&name, "job").commit().await?;
    let queue = queue(&db, &name);
    let message = ensure_some!(queue.receive().await?, "delivered");
    // The lease ends 30 s + 1 s of backoff from now; released then, its next place is the same.
    clock.advance(Duration::from_secs(30));
    queue.release(&message).await?;
    clock.advance(Duration::from_secs(1));
    let again = ensure_some!(queue.receive().await?, "released at the lease's end: delivered again");
    ensure_eq!(
        (again.id, again.attempts),
        (message.id, 2),
        "the same message, second attempt"
    );
    clock.advance(Duration::from_secs(60));
    let last = ensure_some!(queue.receive().await?, "third attempt");
    queue.release(&last).await?;
    let dead = queue.dead_letters(10).await?;
    ensure_eq!(dead.len(), 1, "spent: a dead letter");
    for letter in &dead {
        queue.release(letter).await?;
    }
    ensure_eq!(
        queue.dead_letters(10).await?.len(),
        1,
        "a released dead letter stays one"
    );
    clock.advance(Duration::from_secs(3_600));
    ensure!(queue.receive().await?.is_none(), "and is not delivered");
    Ok(())
}

/// Four consumers racing over 20 messages receive each exactly once.
pub async fn concurrent_receivers_take_each_message_once(cx: &Ctx<'_>) -> CaseResult {
    let (db, _clock, name) = setup(cx);
    for i in 0..20 {
        db.atomic().enqueue(&name, i).commit().await?;
    }
    let queue = queue(&db, &name);
    let consumer = |_| async {
        let mut got = Vec::new();
        for _ in 0..40 {
            match queue.receive().await {
                Ok(Some(message)) => got.push(message.payload.as_i64().unwrap_or(-1)),
                Ok(None) => break,
                // Others took every message this one found: look again.
                Err(error) if error.kind() == ErrorKind::Conflict => {}
                Err(error) => return Err(error),
            }
        }
        Ok::<_, Error>(got)
    };
    let got: Vec<Vec<i64>> = futures::future::try_join_all((0..4).map(consumer)).await?;
    let mut all: Vec<i64> = got.into_iter().flatten().collect();
    all.sort_unstable();
    ensure_eq!(all, (0..20).collect::<Vec<_>>(), "each message once");
    Ok(())
}

/// `drain` commits what the handler returns with the acknowledgement; a failing handler's
/// message comes back after the backoff.
pub async fn drain_acknowledges_what_its_handler_handled(cx: &Ctx<'_>) -> CaseResult {
    let (db, clock, name) = setup(cx);
    db.atomic()
        .enqueue(&name, "ok 1")
        .enqueue(&name, "fail")
        .enqueue(&name, "ok 2")
        .commit()
        .await?;
    let queue = queue(&db, &name);
    let handler = async |message: &Message| {
        let payload = message.payload.as_str().unwrap_or_default();
        match payload {
            "fail" if message.attempts == 1 => Err(Error::invalid("the handler failed")),
            _ => Ok(vec![Write::set(cx.key(payload), i64::from(message.attempts))]),
        }
    };
    ensure_eq!(queue.drain(10, handler).await?, 2, "two acknowledged");
    ensure!(
        db.get(&cx.key("fail")).await?.is_none(),
        "the failed handler wrote nothing"
    );
    ensure!(db.get(&cx.key("ok 2")).await?.is_some(), "the others' writes committed");
    ensure!(queue.receive().await?.is_none(), "the failed one waits for its backoff");
    clock.advance(Duration::from_secs(1));
    ensure_eq!(
        queue.drain(10, handler).await?,
        1,
        "the failed one, again after the backoff"
    );
    let effect = db.get(&cx.key("fail")).await?.and_then(|e| e.value.as_i64());
    ensure_eq!(effect, Some(2), "handled on its second attempt");
    clock.advance(Duration::from_secs(3_600));
    ensure!(queue.receive().await?.is_none(), "all acknowledged");
    Ok(())
}
