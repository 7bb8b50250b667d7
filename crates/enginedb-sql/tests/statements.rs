//! The statements a unit costs on D1, printed (`cargo xtask test` runs `report_*` tests with
//! their output) and bounded.

#![allow(clippy::unwrap_used)] // a test

use enginedb::port::EncodedWrite;
use enginedb::{Selector, Version, Write, key};
use enginedb_sql::sqlite::batch_statements;

/// What a unit costs D1 in statements (its per-invocation query limit: 1,000 on the paid
/// plan, 50 on the free one), printed and bounded: runs of ops of one kind fold into
/// statements of up to 32 rows; spans take one each.
#[test]
fn report_d1_statements_per_unit() {
    let count = |ops: &[Write]| batch_statements(&EncodedWrite::unit(ops).unwrap());
    let sets: Vec<Write> = (0..1000).map(|i| Write::set(key!["s", i], i)).collect();
    let checks: Vec<Write> = (0..1000)
        .map(|i| Write::check(key!["c", i], Some(Version(1))))
        .collect();
    let inserts: Vec<Write> = (0..1000).map(|i| Write::insert(key!["i", i], i)).collect();
    let deletes: Vec<Write> = (0..1000).map(|i| Write::delete(key!["d", i])).collect();
    let sums: Vec<Write> = (0..1000).map(|i| Write::sum(key!["n", i], 1)).collect();
    let mixed = [
        Write::check(key!["m", 0], Some(Version(3))),
        Write::check(key!["m", 1], None),
        Write::insert(key!["msg", 7], "hello"),
        Write::insert(key!["attachment", 7, 0], "a"),
        Write::set(key!["delivery", "bob", 7], "unread"),
        Write::set(key!["delivery", "cy", 7], "unread"),
        Write::set(key!["delivery", "di", 7], "unread"),
        Write::set(key!["thread", 7, 7], "ada"),
        Write::set(key!["log", 7], "sent"),
        Write::sum(key!["count", "msgs"], 1),
        Write::max(key!["last", "ada"], 7),
        Write::delete(key!["draft", "ada", 1]),
        Write::delete(key!["draft", "ada", 2]),
        Write::set(key!["inbox", "bob"], 7),
        Write::set(key!["inbox", "cy"], 7),
        Write::set(key!["inbox", "di"], 7),
        Write::sum(key!["unread", "bob"], 1),
        Write::sum(key!["unread", "cy"], 1),
        Write::sum(key!["unread", "di"], 1),
        Write::delete_range(Selector::prefix(key!["typing", "ada"])),
    ];
    let figures = [
        ("1,000 sets", count(&sets)),
        ("1,000 version checks", count(&checks)),
        ("1,000 inserts", count(&inserts)),
        ("1,000 deletes", count(&deletes)),
        ("1,000 sums", count(&sums)),
        ("a 20-op mixed unit", count(&mixed)),
    ];
    for (unit, statements) in figures {
        eprintln!("D1 statements of {unit}: {statements}");
    }
    let [sets, checks, inserts, deletes, sums, mixed] = figures.map(|(_, n)| n);
    assert!(sets <= 33 && checks <= 33 && deletes <= 33, "{sets} {checks} {deletes}");
    assert!(inserts <= 65, "{inserts}");
    assert!(sums <= 65, "{sums}");
    let one_key: Vec<Write> = (0..1000).map(|_| Write::sum(key!["n"], 1)).collect();
    assert_eq!(
        count(&one_key),
        2001,
        "the worst case: every op alone, two statements each"
    );
    assert!(mixed <= 25, "a typical unit within the free plan's 50: {mixed}");
}
