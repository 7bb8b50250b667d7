//! The `enginedb` binary, end to end.

#![allow(clippy::expect_used)] // test helpers fail loudly

use std::process::{Command, Output};

fn enginedb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_enginedb"))
        .args(args)
        .output()
        .expect("run enginedb")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn check_prints_the_summary_and_its_exit_status_says_the_outcome() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/check.sqlite3", dir.path().display());
    let output = enginedb(&["check", &url]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = stdout(&output).lines().last().unwrap_or_default().to_owned();
    assert!(summary.ends_with(" passed, 0 failed"), "{summary}");
    assert!(
        !enginedb(&["check", "nosuch://x"]).status.success(),
        "an unknown store fails"
    );
}

#[test]
fn export_from_sqlite_import_into_redb_lists_the_same() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (sqlite, redb) = (
        format!("sqlite://{}/a.sqlite3", dir.path().display()),
        format!("redb://{}/b.redb", dir.path().display()),
    );
    for (key, value) in [
        (r#"["users", 42]"#, ["--text", "ada"]),
        (r#"["users", -1, true, {"bytes": "00ff"}]"#, ["--hex", "00ff10"]),
        (r#"["visits"]"#, ["--i64", "-9223372036854775808"]),
    ] {
        assert!(enginedb(&["put", &sqlite, key, value[0], value[1]]).status.success());
    }
    let dump = dir.path().join("dump.jsonl");
    let dump = dump.to_str().expect("UTF-8 path");
    assert!(enginedb(&["export", &sqlite, "-o", dump]).status.success());
    assert!(enginedb(&["import", &redb, "-i", dump]).status.success());
    let (from, to) = (
        stdout(&enginedb(&["list", &sqlite, "--json"])),
        stdout(&enginedb(&["list", &redb, "--json"])),
    );
    assert_eq!(from.lines().count(), 3);
    assert_eq!(from, to, "the same entries in the same order");
}

#[test]
fn a_dump_carries_feeds_and_list_does_not_show_them() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (from, to) = (
        format!("sqlite://{}/from.sqlite3", dir.path().display()),
        format!("redb://{}/to.redb", dir.path().display()),
    );
    futures::executor::block_on(async {
        let db = enginedb_sqlite::SqliteDb::open_db(&from).await.expect("open");
        // The event's stamp lies far beyond the versions of a fresh store.
        for i in 0..50 {
            db.set(enginedb::key!["visits"], i).await.expect("set");
        }
        db.atomic()
            .set(enginedb::key!["msg", 1], "hi")
            .emit("messages", "msg 1")
            .commit()
            .await
            .expect("commit");
        db.close().await.expect("close");
    });
    let listed = stdout(&enginedb(&["list", &from, "--json"]));
    assert_eq!(
        listed.lines().count(),
        2,
        "list shows the application's entries only: {listed}"
    );
    let dump = dir.path().join("dump.jsonl");
    let dump = dump.to_str().expect("UTF-8 path");
    assert!(enginedb(&["export", &from, "-o", dump]).status.success());
    let text = std::fs::read_to_string(dump).expect("dump");
    assert_eq!(text.lines().count(), 5, "header, three entries, trailer: {text}");
    // Whole or in units: events emitted after the restore come after the restored ones.
    for (to, mode) in [
        (to, None),
        (
            format!("redb://{}/partial.redb", dir.path().display()),
            Some("--partial"),
        ),
    ] {
        let mut args = vec!["import", &to, "-i", dump];
        args.extend(mode);
        assert!(enginedb(&args).status.success());
        futures::executor::block_on(async {
            let db = enginedb_redb::RedbDb::open_db(&to).await.expect("open");
            db.atomic().emit("messages", "msg 2").commit().await.expect("emit");
            let events = db.feed("messages").since(None).read().await.expect("read");
            let payloads: Vec<_> = events.iter().map(|e| e.payload.as_str()).collect();
            assert_eq!(payloads, [Some("msg 1"), Some("msg 2")], "{mode:?}");
            db.close().await.expect("close");
        });
    }
}

#[test]
fn a_truncated_dump_is_refused_and_nothing_is_imported() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let truncated = dir.path().join("truncated.jsonl");
    std::fs::write(
        &truncated,
        "{\"enginedb-dump\":1}\n{\"k\":[\"a\"],\"v\":{\"i64\":\"1\"}}\n",
    )
    .expect("write");
    let url = format!("redb://{}/c.redb", dir.path().display());
    let output = enginedb(&["import", &url, "-i", truncated.to_str().expect("UTF-8 path")]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("truncated"));
    assert_eq!(stdout(&enginedb(&["list", &url])), "", "nothing imported");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"enginedb-dump\":1}\n{\"k\":[\"a\"],\"v\":{\"i64\":\"1\"}}\n{\"k\":[1.5],\"v\":{\"i64\":\"2\"}}\n{\"end\":2}\n").expect("write");
    let output = enginedb(&["import", &url, "-i", bad.to_str().expect("UTF-8 path"), "--partial"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("dump line 3"));
    assert_eq!(
        stdout(&enginedb(&["list", &url])).lines().count(),
        1,
        "--partial kept the entry before the bad line"
    );
}

#[test]
fn the_demo_runs() {
    let output = enginedb(&["demo"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = stdout(&output);
    assert!(text.contains("mode Transaction"), "{text}");
    assert!(text.contains("no orphan message"), "{text}");
    assert!(text.contains("partial write"), "{text}");
}

#[test]
fn bench_quick_prints_the_ratios_and_writes_the_chart() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (chart, report) = (dir.path().join("out/chart.svg"), dir.path().join("out/bench.md"));
    let output = enginedb(&[
        "bench",
        "--quick",
        "--backend",
        "memory",
        "--backend",
        "sqlite",
        "--chart",
        chart.to_str().expect("UTF-8 path"),
        "--markdown",
        report.to_str().expect("UTF-8 path"),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = stdout(&output);
    assert!(text.contains("| work | memory | sqlite |"), "{text}");
    assert!(text.contains("| 100 single writes ÷ one 100-op unit |"), "{text}");
    // Every measurement has a row for each backend, with a ratio that is a positive number.
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| sqlite | ")).collect();
    assert_eq!(rows.len(), 13, "{text}");
    for row in rows {
        let ratio: f64 = row
            .trim_end_matches(" |")
            .rsplit("| ")
            .next()
            .and_then(|r| r.parse().ok())
            .expect("a ratio");
        assert!(ratio.is_finite() && ratio > 0.0, "{row}");
    }
    let svg = std::fs::read_to_string(&chart).expect("the chart");
    assert!(
        svg.starts_with("<svg") && svg.contains("<title>sqlite unit of 100 ops (adapter): "),
        "{svg}"
    );
    assert_eq!(
        std::fs::read_to_string(&report).expect("the report").trim(),
        text.lines()
            .skip_while(|l| !l.starts_with("## "))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
    );
}

/// `check` runs in a scratch namespace and leaves the user's store as it found it: nothing
/// under any key it can list, the user's own entry untouched.
#[test]
fn check_leaves_the_users_data_as_it_was() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/mine.sqlite3", dir.path().display());
    assert!(
        enginedb(&["put", &url, r#"["mine"]"#, "--text", "kept"])
            .status
            .success()
    );
    let before = stdout(&enginedb(&["list", &url, "--all", "--json"]));
    let output = enginedb(&["check", &url]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("scratch namespace"));
    assert_eq!(stdout(&enginedb(&["list", &url, "--all", "--json"])), before);
    let scratch = format!("{url}?namespace=enginedb_check_probe");
    assert_eq!(
        stdout(&enginedb(&["list", &scratch, "--all"])),
        "",
        "nothing left in a namespace"
    );
}

/// `list` pages with `--cursor`, streams with `--all`, and exits quietly when its reader goes
/// away (`enginedb list … | head -1`).
#[test]
fn list_resumes_streams_and_survives_a_closed_pipe() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/list.sqlite3", dir.path().display());
    let dump: String = std::iter::once(r#"{"enginedb-dump":1}"#.to_owned())
        .chain((0..10_000).map(|i| format!(r#"{{"k":["n",{i}],"v":{{"i64":"{i}"}}}}"#)))
        .chain(std::iter::once(r#"{"end":10000}"#.to_owned()))
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("dump.jsonl");
    std::fs::write(&path, dump).expect("write the dump");
    let imported = enginedb(&["import", &url, "-i", path.to_str().expect("UTF-8 path")]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    assert_eq!(stdout(&enginedb(&["list", &url, "--all"])).lines().count(), 10_000);
    let first = enginedb(&["list", &url, "--limit", "2"]);
    let hint = String::from_utf8_lossy(&first.stderr).into_owned();
    let cursor = hint
        .split("--cursor ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("a cursor to resume with");
    let next = stdout(&enginedb(&["list", &url, "--limit", "2", "--cursor", cursor]));
    assert_eq!(next.lines().next(), Some(r#"("n", 2) = 2"#));

    let mut child = Command::new(env!("CARGO_BIN_EXE_enginedb"))
        .args(["list", &url, "--all"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run enginedb");
    let mut line = [0u8; 8];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut line)
        .expect("a first line");
    // The reader goes away after the first bytes.
    let status = child.wait().expect("exit");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Counters, hex and cursors are parsed strictly: a `+` is no digit.
#[test]
fn numbers_and_hex_are_parsed_strictly() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/strict.sqlite3", dir.path().display());
    assert!(enginedb(&["put", &url, r#"["other"]"#, "--i64", "-5"]).status.success());
    for value in [["--i64", "+5"], ["--hex", "+f+f"]] {
        let output = enginedb(&["put", &url, r#"["k"]"#, value[0], value[1]]);
        assert!(!output.status.success(), "{value:?} accepted");
    }
    assert!(!enginedb(&["list", &url, "--cursor", "+1+1"]).status.success());
    let listed = enginedb(&["list", &url, "--all"]);
    assert!(listed.status.success());
    assert_eq!(stdout(&listed), "(\"other\") = -5\n", "nothing else written");
}

/// A value too large for an argument comes from a file or standard input.
#[test]
fn a_value_comes_from_a_file_or_standard_input() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/file.sqlite3", dir.path().display());
    let big = vec![b'x'; 300 * 1024];
    let path = dir.path().join("value.bin");
    std::fs::write(&path, &big).expect("write the value");
    let put = enginedb(&["put", &url, r#"["big"]"#, "--file", path.to_str().expect("UTF-8 path")]);
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_enginedb"))
        .args(["put", &url, r#"["piped"]"#, "--file", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run enginedb");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"from a pipe")
        .expect("write");
    assert!(child.wait().expect("exit").success());
    let json = stdout(&enginedb(&["get", &url, r#"["big"]"#, "--json"]));
    assert!(json.contains(&"78".repeat(300 * 1024)), "the whole value came back");
    let piped = stdout(&enginedb(&["get", &url, r#"["piped"]"#]));
    assert!(piped.contains("\"from a pipe\""), "{piped}");
    std::fs::write(&path, vec![0u8; enginedb::limits::MAX_VALUE_BYTES + 1]).expect("write");
    let over = enginedb(&["put", &url, r#"["over"]"#, "--file", path.to_str().expect("UTF-8 path")]);
    assert!(!over.status.success());
    assert!(
        String::from_utf8_lossy(&over.stderr).contains("limit"),
        "{}",
        String::from_utf8_lossy(&over.stderr)
    );
}

/// A dump of `entries` ((key JSON, value JSON) pairs, in key order).
fn dump_of(entries: impl IntoIterator<Item = (String, String)>) -> String {
    let mut lines = vec![r#"{"enginedb-dump":1}"#.to_owned()];
    for (k, v) in entries {
        lines.push(format!(r#"{{"k":{k},"v":{v}}}"#));
    }
    let count = lines.len() - 1;
    lines.push(format!(r#"{{"end":{count}}}"#));
    lines.join("\n")
}

fn import(url: &str, dump: &str, partial: bool) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("dump.jsonl");
    std::fs::write(&path, dump).expect("write the dump");
    let mut args = vec!["import", url, "-i", path.to_str().expect("UTF-8 path")];
    if partial {
        args.push("--partial");
    }
    enginedb(&args)
}

/// 500 small entries then 20 of 512 KiB (over the unit limit together), and 16 of 512 KiB:
/// each imports whole. A dump that fails at its 600th entry imports nothing; with --partial,
/// the 599 before it, and says so.
#[test]
fn imports_are_whole_or_nothing_whatever_their_size() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let big = format!(r#"{{"bytes":"{}"}}"#, "ab".repeat(512 * 1024));
    let small_then_large = dump_of(
        (0..500)
            .map(|i| (format!(r#"["a",{i}]"#), r#"{"i64":"1"}"#.to_owned()))
            .chain((0..20).map(|i| (format!(r#"["b",{i}]"#), big.clone()))),
    );
    let sixteen_large = dump_of((0..16).map(|i| (format!(r#"["c",{i}]"#), big.clone())));
    for (name, dump, count) in [("mixed", &small_then_large, 520), ("large", &sixteen_large, 16)] {
        let url = format!("sqlite://{}/{name}.sqlite3", dir.path().display());
        let output = import(&url, dump, false);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            stdout(&enginedb(&["list", &url, "--all"])).lines().count(),
            count,
            "{name}"
        );
    }

    let broken = dump_of((0..700).map(|i| {
        let v = if i == 599 { r#"{"i64":"x"}"# } else { r#"{"i64":"1"}"# };
        (format!(r#"["d",{i}]"#), v.to_owned())
    }));
    let url = format!("sqlite://{}/broken.sqlite3", dir.path().display());
    let output = import(&url, &broken, false);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        said.contains("line 601") && said.contains("nothing was imported"),
        "{said}"
    );
    assert_eq!(stdout(&enginedb(&["list", &url, "--all"])), "", "nothing written");
    let output = import(&url, &broken, true);
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(said.contains("599 entries before it were imported"), "{said}");
    assert_eq!(stdout(&enginedb(&["list", &url, "--all"])).lines().count(), 599);
}

/// Exports read one snapshot: with a writer keeping ["a"] and ["z"] equal in every unit, no
/// export ever holds them different.
#[test]
fn an_export_is_one_snapshot() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/snapshot.sqlite3", dir.path().display());
    /// Stops the writer however the test ends.
    struct Stop(std::sync::Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = Stop(std::sync::Arc::new(AtomicBool::new(false)));
    let (ready, started) = std::sync::mpsc::channel();
    let writer = {
        let (url, stop) = (url.clone(), stop.0.clone());
        std::thread::spawn(move || {
            futures::executor::block_on(async {
                let db = enginedb_sqlite::SqliteDb::open_db(&url).await.expect("open");
                // Pages of 1,000: ["a"] and ["z"] are read pages apart.
                for chunk in 0..3 {
                    let filler: Vec<enginedb::Write> = (0..1000)
                        .map(|i| enginedb::Write::set(enginedb::key!["m", chunk * 1000 + i], "filler"))
                        .collect();
                    db.write(&filler, enginedb::Atomicity::Require).await.expect("filler");
                }
                let mut n = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // A unit that waited too long for an export's lock is simply not made.
                    let unit = db.atomic().set(enginedb::key!["a"], n).set(enginedb::key!["z"], n);
                    if unit.commit().await.is_ok() {
                        let _ = ready.send(());
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                let _ = db.close().await;
            });
        })
    };
    started
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the writer's first unit");
    for round in 0..5 {
        let output = enginedb(&["export", &url]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let dump = stdout(&output);
        let value = |key: &str| {
            dump.lines()
                .find(|line| line.starts_with(&format!(r#"{{"k":["{key}"]"#)))
                .map(str::to_owned)
        };
        let (a, z) = (value("a"), value("z"));
        assert!(a.is_some(), "round {round}: {dump:.200}");
        assert_eq!(
            a.map(|l| l.replace(r#"["a"]"#, "")),
            z.map(|l| l.replace(r#"["z"]"#, "")),
            "round {round}"
        );
    }
    drop(stop);
    writer.join().expect("writer");
}

/// A read of a store that does not exist fails clearly and creates nothing.
#[test]
fn a_read_never_creates_a_store() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (scheme, file) in [("sqlite", "typo.sqlite3"), ("redb", "typo.redb")] {
        let url = format!("{scheme}://{}/{file}", dir.path().display());
        for args in [
            vec!["get", url.as_str(), r#"["k"]"#],
            vec!["list", url.as_str()],
            vec!["export", url.as_str()],
        ] {
            let output = enginedb(&args);
            assert!(!output.status.success(), "{args:?}");
            let said = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(said.contains("there is no"), "{args:?}: {said}");
        }
        assert!(!dir.path().join(file).exists(), "{scheme}: nothing created");
    }
}

/// Read commands open the store read-only: they take no write lock, so they work while
/// another process holds it (an open for writing would wait out the busy timeout, then fail).
#[test]
fn reads_work_beside_a_writer() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("busy.sqlite3");
    let url = format!("sqlite://{}", path.display());
    assert!(enginedb(&["put", &url, r#"["k"]"#, "--text", "v"]).status.success());
    let writer = enginedb_sqlite::rusqlite::Connection::open(&path).expect("raw connection");
    writer.execute_batch("BEGIN IMMEDIATE").expect("hold the write lock");
    let started = std::time::Instant::now();
    for args in [
        vec!["get", url.as_str(), r#"["k"]"#],
        vec!["list", url.as_str()],
        vec!["export", url.as_str()],
    ] {
        let output = enginedb(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout(&output).contains('k'), "{args:?}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let output = enginedb(&["put", &url, r#"["k"]"#, "--text", "w"]);
    assert!(!output.status.success(), "a write waits for the lock, then fails");
    writer.execute_batch("ROLLBACK").expect("release");
}

/// An export writes nothing: not even a version is drawn for its snapshot.
#[test]
fn an_export_writes_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/quiet.sqlite3", dir.path().display());
    let version = |output: Output| -> u64 {
        let text = stdout(&output);
        text.rsplit(' ')
            .next()
            .and_then(|v| v.trim().parse().ok())
            .expect("a version")
    };
    let first = version(enginedb(&["put", &url, r#"["k"]"#, "--i64", "1"]));
    assert!(enginedb(&["export", &url]).status.success());
    let second = version(enginedb(&["put", &url, r#"["k"]"#, "--i64", "2"]));
    assert_eq!(second, first + 1, "the export drew no version");
}

/// A row the store holds under key bytes no key encodes (here a foreign first byte, or the
/// format byte alone) fails the export with `Corrupt`: never a dump that silently lacks it.
#[test]
fn an_export_of_a_corrupt_store_fails() {
    for bad in [&[0xFF, 1, 2][..], &[0x00], &[0x01]] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("corrupt.sqlite3");
        let url = format!("sqlite://{}", path.display());
        assert!(enginedb(&["put", &url, r#"["k"]"#, "--text", "v"]).status.success());
        let raw = enginedb_sqlite::rusqlite::Connection::open(&path).expect("raw connection");
        raw.execute(
            "INSERT INTO enginedb_kv (ns, k, v, n, ver) VALUES ('', ?1, x'00', NULL, 1)",
            [bad],
        )
        .expect("tamper");
        drop(raw);
        let output = enginedb(&["export", &url]);
        assert!(!output.status.success(), "{bad:02x?}: the export failed");
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(said.contains("corrupt"), "{bad:02x?}: {said}");
        assert!(!stdout(&output).contains(r#""end""#), "{bad:02x?}: no trailer");
    }
}
