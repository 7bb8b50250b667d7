//! Feeds, the transactional outbox, and the library's reserved keys (DESIGN §3, §11).

use enginedb::testing::Faulty;
use enginedb::{Db, Error, ErrorKind, Event, Key, KeyPart, Mode, Selector, Value, Version, Write, key};

use crate::{CaseResult, Ctx};

/// A topic of this case's own (cases share a store).
fn topic(cx: &Ctx<'_>) -> String {
    format!("{}", cx.root())
}

fn payloads(events: &[Event]) -> Vec<Value> {
    events.iter().map(|e| e.payload.clone()).collect()
}

/// An event commits with its unit, at the unit's version; a unit that fails emits nothing.
pub async fn events_commit_with_their_unit(cx: &Ctx<'_>) -> CaseResult {
    let topic = topic(cx);
    let commit = cx
        .db()
        .atomic()
        .set(cx.key("msg"), "hello")
        .emit(&topic, "sent")
        .commit()
        .await?;
    let failed = cx
        .db()
        .atomic()
        .emit(&topic, "lost")
        .check(cx.key("absent"), Version(1))
        .commit()
        .await;
    ensure!(failed.is_err(), "the check cannot hold");
    let events = cx.db().feed(&topic).since(None).read().await?;
    ensure_eq!(payloads(&events), vec![Value::from("sent")], "one event");
    let written = cx.db().get(&cx.key("msg")).await?.map(|e| e.version);
    let event_version = events.first().map(|e| e.cursor.version);
    if commit.mode == Mode::Sequential {
        ensure!(event_version > written, "sequential: the event is the later write");
    } else {
        ensure_eq!(event_version, written, "the event has its unit's version");
        ensure_eq!(event_version, Some(commit.version), "and the commit's");
    }
    Ok(())
}

/// Reads resume after a cursor, page by page or as a stream, in commit order.
pub async fn reads_resume_after_a_cursor(cx: &Ctx<'_>) -> CaseResult {
    let topic = topic(cx);
    for i in 0..3 {
        cx.db().atomic().emit(&topic, i).emit(&topic, i * 10).commit().await?;
    }
    let feed = cx.db().feed(&topic);
    let first = feed.since(None).limit(4).read().await?;
    ensure_eq!(
        payloads(&first),
        vec![0.into(), 0.into(), 1.into(), 10.into()],
        "first four"
    );
    let rest = feed.since(first.last().map(|e| e.cursor)).read().await?;
    ensure_eq!(payloads(&rest), vec![2.into(), 20.into()], "after the cursor");
    let cursors: Vec<_> = first.iter().chain(&rest).map(|e| e.cursor).collect();
    ensure!(cursors.is_sorted_by(|a, b| a < b), "cursors increase: {cursors:?}");
    let streamed: Vec<Event> = futures::TryStreamExt::try_collect(feed.since(None).limit(4).stream()).await?;
    ensure_eq!(streamed.len(), 6, "the stream holds every event");
    ensure!(
        feed.since(rest.last().map(|e| e.cursor)).read().await?.is_empty(),
        "nothing after the last"
    );
    Ok(())
}

/// Two consumers of one name racing over the same events apply each event's effect exactly
/// once, and leave the position after the last event.
pub async fn consumers_apply_each_event_once(cx: &Ctx<'_>) -> CaseResult {
    let topic = topic(cx);
    for i in 1..=6 {
        cx.db().atomic().emit(&topic, i).commit().await?;
    }
    let feed = cx.db().feed(&topic);
    let total = cx.key("total");
    let consumer = |_| async {
        let mut handled = 0;
        // Bounded: a store that loses positions must fail the case, not hang it.
        for _ in 0..20 {
            let n = feed
                .consume("indexer", 2, async |tx, events: &[Event]| {
                    for event in events {
                        tx.sum(total.clone(), event.payload.as_i64().unwrap_or(1_000));
                    }
                    Ok::<_, Error>(())
                })
                .await?;
            if n == 0 {
                break;
            }
            handled += n;
        }
        Ok::<_, Error>(handled)
    };
    let handled: Vec<usize> = futures::future::try_join_all((0..2).map(consumer)).await?;
    ensure_eq!(
        handled.iter().sum::<usize>(),
        6,
        "six events handled between them: {handled:?}"
    );
    let sum = cx.db().get(&total).await?.and_then(|e| e.value.as_i64());
    ensure_eq!(sum, Some(21), "each effect applied once");
    let last = feed.since(None).read().await?.last().map(|e| e.cursor);
    ensure_eq!(feed.position("indexer").await?, last, "the position is the last event");
    ensure_eq!(
        feed.position("other").await?,
        None,
        "another consumer has handled nothing"
    );
    Ok(())
}

/// `trim` removes the events up to and including a cursor.
pub async fn trim_removes_through_a_cursor(cx: &Ctx<'_>) -> CaseResult {
    let topic = topic(cx);
    for i in 0..3 {
        cx.db().atomic().emit(&topic, i).commit().await?;
    }
    let feed = cx.db().feed(&topic);
    let events = feed.since(None).read().await?;
    ensure_eq!(events.len(), 3, "three events");
    let second = events.get(1).map(|e| e.cursor);
    if let Some(second) = second {
        feed.trim(second).await?;
    }
    ensure_eq!(
        payloads(&feed.since(None).read().await?),
        vec![2.into()],
        "only the third is left"
    );
    Ok(())
}

/// In sequential mode an event is a write of its own: a failure between the unit's writes and
/// its event is an honest `PartialWrite` that leaves the writes without the event.
pub async fn sequential_emit_can_be_orphaned(cx: &Ctx<'_>) -> CaseResult {
    let topic = topic(cx);
    let faulty = Faulty::new(cx.db().port().clone()).fail_write(2);
    let result = Db::from(faulty)
        .atomic()
        .set(cx.key("msg"), "hello")
        .emit(&topic, "sent")
        .commit()
        .await;
    let events = cx.db().feed(&topic).since(None).read().await?;
    let msg = cx.db().get(&cx.key("msg")).await?;
    match result {
        Err(Error::PartialWrite { applied, failed_at, .. }) => {
            ensure_eq!(cx.mode(), Mode::Sequential, "only op by op can write part of a unit");
            ensure_eq!((applied, failed_at), (1, 1), "the set applied, the event failed");
            ensure!(
                msg.is_some() && events.is_empty(),
                "the write is there, its event is not"
            );
        }
        Err(error) => {
            ensure!(cx.mode() != Mode::Sequential, "sequential: PartialWrite, not {error}");
            ensure!(msg.is_none() && events.is_empty(), "an atomic unit wrote nothing");
        }
        Ok(commit) => ensure!(false, "the fault was injected, yet the unit committed: {commit:?}"),
    }
    Ok(())
}

/// Applications cannot write the library's keys (first part starting with "\0enginedb"), and
/// their lists of the whole key space skip them; a handle for dump tools sees them.
pub async fn library_keys_are_reserved(cx: &Ctx<'_>) -> CaseResult {
    let topic = topic(cx);
    cx.db().atomic().emit(&topic, "event").commit().await?;
    let reserved = key!["\u{0}enginedb", "feed", topic.as_str(), 1, 0];
    for op in [
        Write::set(reserved.clone(), 1),
        Write::delete(reserved.clone()),
        Write::set(key!["\u{0}enginedb_mine"], 1),
        Write::delete_range(Selector::prefix(Key::default())),
    ] {
        let refused = cx.db().write_one(op.clone()).await.map(drop);
        ensure_eq!(refused.err().map(|e| e.kind()), Some(ErrorKind::InvalidInput), "{op:?}");
        let refused = cx.unit(std::slice::from_ref(&op)).await.map(drop);
        ensure_eq!(
            refused.err().map(|e| e.kind()),
            Some(ErrorKind::InvalidInput),
            "{op:?} in a unit"
        );
    }
    cx.db().set(cx.key("mine"), 1).await?;
    let everything = Selector::prefix(Key::default());
    let is_library = |key: &Key| key.parts().first() == Some(&KeyPart::from("\u{0}enginedb"));
    let mine = |entries: Vec<enginedb::Entry>| -> Vec<Key> {
        entries
            .into_iter()
            .map(|e| e.key)
            .filter(|k| k.starts_with(cx.root()) || is_library(k))
            .collect()
    };
    let forward = mine(cx.db().list(everything.clone()).limit(3).collect().await?);
    ensure_eq!(
        forward,
        vec![cx.key("mine")],
        "a list of everything skips the library's keys"
    );
    let reverse = mine(cx.db().list(everything.clone()).reverse().limit(3).collect().await?);
    ensure_eq!(reverse, forward, "so does a reverse one");
    let dump = mine(cx.db().clone().with_library_keys().list(everything).collect().await?);
    let feed = key!["\u{0}enginedb", "feed", topic.as_str()];
    ensure!(
        dump.iter().any(|k| k.starts_with(&feed)),
        "a dump tool's handle sees the event"
    );
    Ok(())
}
