//! The quickstart: "write the message, then the deliveries, then the log" as one unit, on the
//! in-process reference store in each of its three modes, then a read-modify-write with
//! `transact` and a paged list.
//!
//! Run it with `cargo run -p quickstart`.

#![allow(clippy::print_stdout)]

use enginedb::{
    Atomicity, EngineDb, Error, ListOptions, Mask, Masked, MemoryDb, Selector, Value, Write, key, run_atomic_writes,
    transact,
};

/// One message to several recipients: the message, one delivery per recipient, a log entry and
/// the sender's message counter, as one unit that must not half-happen.
fn send(id: i64, from: &str, to: &[&str], body: &str) -> Vec<Write> {
    let mut unit = vec![Write::insert(key!["msg", id], body)];
    unit.extend(to.iter().map(|r| Write::set(key!["delivery", *r, id], "unread")));
    unit.push(Write::set(
        key!["log", id],
        format!("{from} -> {}", to.join(",")).as_str(),
    ));
    unit.push(Write::sum(key!["sent", from], 1));
    unit
}

async fn demo(db: &dyn EngineDb) -> Result<(), Error> {
    let info = db.info();
    println!(
        "\n== {} (transactions: {}, batches: {})",
        info.name, info.capabilities.transactions, info.capabilities.batches
    );

    let commit = run_atomic_writes(db, &send(1, "ada", &["bob", "cy"], "hello"), Atomicity::BestEffort).await?;
    println!(
        "send #1: committed at version {} in mode {:?}",
        commit.version, commit.mode
    );

    // Sending #1 again fails on the Insert: nothing of the unit is written, in any mode.
    let again = run_atomic_writes(db, &send(1, "ada", &["dee"], "again"), Atomicity::BestEffort).await;
    println!(
        "send #1 again: {}",
        again.map_or_else(|e| e.to_string(), |c| format!("{c:?}"))
    );
    let dee = db.get(&key!["delivery", "dee", 1]).await?;
    println!("  delivery to dee exists: {}", dee.is_some());

    match run_atomic_writes(
        db,
        &send(2, "ada", &["bob"], "atomic or not at all"),
        Atomicity::Require,
    )
    .await
    {
        Ok(commit) => println!("send #2 (atomicity required): {:?}", commit.mode),
        Err(error) => println!("send #2 (atomicity required): refused: {error}"),
    }

    match transact(db, |tx| async move {
        let sent = match tx.get(&key!["sent", "ada"]).await?.map(|e| e.value) {
            Some(Value::I64(n)) => n,
            _ => 0,
        };
        tx.set(key!["stats", "ada"], format!("{sent} sent").as_str()).await?;
        Ok(sent)
    })
    .await
    {
        Ok(done) => println!(
            "transact: ada has sent {} ({:?}, {} attempt)",
            done.value, done.commit.mode, done.attempts
        ),
        Err(error) => println!("transact: {error}"),
    }

    let mut options = ListOptions::limit(1);
    let mut page_no = 1;
    loop {
        let page = db.list(&Selector::Prefix(key!["delivery", "bob"]), &options).await?;
        for entry in &page.entries {
            println!(
                "bob's deliveries, page {page_no}: {} = {} (v{})",
                entry.key, entry.value, entry.version
            );
        }
        match page.cursor {
            Some(cursor) => options.cursor = Some(cursor),
            None => break,
        }
        page_no += 1;
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    futures::executor::block_on(async {
        for mask in Mask::ALL {
            demo(&Masked::new(MemoryDb::new(), mask)).await?;
        }
        Ok(())
    })
}
