//! A crash test any file-backed adapter can run: a child process streams atomic units into the
//! store and is killed with SIGKILL at random moments. After every kill the store is reopened
//! and checked: every unit is wholly present or wholly absent, and every unit acknowledged
//! before the kill is present.
//!
//! `ENGINEDB_CRASH_KILLS` sets the number of kills (default 50). The test binary is its own
//! child: run with `--crash-child PATH FIRST_ID` it streams units forever.

#![allow(clippy::print_stdout)] // a test runner of its own: its figures are its output

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use std::{env, thread};

use enginedb::{Atomicity, Db, KeyPart, Result, Selector, Value, Write, key};
use futures::executor::block_on;
use futures::future::LocalBoxFuture;

const KEYS_PER_UNIT: i64 = 4;

/// Opens the store at a path: what the crash test runs against.
pub type Open = fn(&str) -> LocalBoxFuture<'static, Result<Db>>;

/// The `main` of a crash-test binary (`harness = false`) named `name`, for the store `open`
/// opens. As the parent it runs the test and prints its figures and `N passed, N failed`; run
/// as `--crash-child PATH FIRST_ID` it is the child. Honours the test runner's name filter,
/// `--skip` and `--list`.
pub fn main(name: &str, open: Open) -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    if let [flag, path, first, ..] = args.as_slice()
        && flag == "--crash-child"
    {
        return child(open, path, first.parse().unwrap_or(0));
    }
    if args.iter().any(|a| a == "--list") {
        println!("{name}: test");
        return ExitCode::SUCCESS;
    }
    if !selected(name, &args) {
        return ExitCode::SUCCESS;
    }
    match parent(name, open) {
        Ok(()) => {
            println!("1 passed, 0 failed");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{name} FAILED: {message}");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}

/// Honours the test runner's name filters and `--skip`, as libtest would.
fn selected(name: &str, args: &[String]) -> bool {
    let mut filters = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--skip" => {
                if args.next().is_some_and(|skip| name.contains(skip.as_str())) {
                    return false;
                }
            }
            flag if flag.starts_with('-') => {}
            filter => filters.push(filter),
        }
    }
    filters.is_empty() || filters.iter().any(|f| name.contains(f))
}

fn unit(id: i64) -> Vec<Write> {
    let mut ops: Vec<Write> = (0..KEYS_PER_UNIT)
        .map(|j| Write::set(key!["unit", id, j], id))
        .collect();
    ops.push(Write::sum(key!["units"], 1));
    ops
}

/// Streams units forever, printing `ack ID` once each is committed.
fn child(open: Open, path: &str, first: i64) -> ExitCode {
    let streamed = block_on(async {
        let db = open(path).await?;
        let mut stdout = std::io::stdout();
        for id in first.. {
            db.write(&unit(id), Atomicity::Require).await?;
            writeln!(stdout, "ack {id}")
                .and_then(|()| stdout.flush())
                .map_err(|e| enginedb::Error::backend("io", e))?;
        }
        Ok::<(), enginedb::Error>(())
    });
    match streamed {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crash child: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Figures {
    kills: usize,
    acknowledged: BTreeSet<i64>,
    present: usize,
    violations: Vec<String>,
}

fn parent(name: &str, open: Open) -> Result<(), String> {
    let kills: usize = env::var("ENGINEDB_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("crash.db");
    let path_text = path.to_str().ok_or("temporary path is not UTF-8")?.to_owned();
    let exe = env::current_exe().map_err(|e| e.to_string())?;
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut figures = Figures {
        kills: 0,
        acknowledged: BTreeSet::new(),
        present: 0,
        violations: Vec::new(),
    };
    let mut next_id = 0;
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .args(["--crash-child", &path_text, &next_id.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn child: {e}"))?;
        let stdout = child.stdout.take().ok_or("child has no stdout")?;
        let (acks, received) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(id) = line.strip_prefix("ack ").and_then(|id| id.parse::<i64>().ok()) {
                    let _ = acks.send(id);
                }
            }
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        thread::sleep(Duration::from_millis(15 + seed % 120));
        child.kill().map_err(|e| format!("kill child: {e}"))?;
        let status = child.wait().map_err(|e| format!("wait for child: {e}"))?;
        if status.code().is_some() {
            return Err(format!(
                "round {round}: the child exited by itself ({status}) instead of being killed"
            ));
        }
        figures.kills += 1;
        let _ = reader.join();
        figures.acknowledged.extend(received.try_iter());
        next_id = verify(open, &path_text, round, &mut figures)? + 1;
    }
    println!(
        "{name}: {} kills, {} units acknowledged, {} units present, {} violations",
        figures.kills,
        figures.acknowledged.len(),
        figures.present,
        figures.violations.len()
    );
    match figures.violations.first() {
        None if figures.acknowledged.is_empty() => Err("no unit was ever acknowledged".into()),
        None => Ok(()),
        Some(first) => Err(format!("{} violations; first: {first}", figures.violations.len())),
    }
}

/// Reopens the store and checks every unit; returns the largest unit id present.
fn verify(open: Open, path: &str, round: usize, figures: &mut Figures) -> Result<i64, String> {
    let entries = block_on(async {
        let db = open(path).await?;
        let entries = db.list(Selector::prefix(key!["unit"])).collect().await?;
        db.close().await?;
        Ok::<_, enginedb::Error>(entries.into_iter().map(|e| (e.key, e.value)).collect::<Vec<_>>())
    })
    .map_err(|e| format!("round {round}: reopen and read: {e}"))?;
    let mut units: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (key, value) in entries {
        match (key.parts().as_slice(), value) {
            ([_, KeyPart::Int(id), KeyPart::Int(_)], Value::I64(v)) if v == *id => {
                units.entry(*id).or_default().push(v)
            }
            (_, value) => figures
                .violations
                .push(format!("round {round}: unexpected entry {key} = {value}")),
        }
    }
    for (id, keys) in &units {
        if keys.len() as i64 != KEYS_PER_UNIT {
            figures.violations.push(format!(
                "round {round}: unit {id} is partial: {} of {KEYS_PER_UNIT} keys",
                keys.len()
            ));
        }
    }
    for id in &figures.acknowledged {
        if !units.contains_key(id) {
            figures
                .violations
                .push(format!("round {round}: acknowledged unit {id} is lost"));
        }
    }
    figures.present = units.len();
    Ok(units
        .keys()
        .next_back()
        .copied()
        .unwrap_or(-1)
        .max(figures.acknowledged.last().copied().unwrap_or(-1)))
}
