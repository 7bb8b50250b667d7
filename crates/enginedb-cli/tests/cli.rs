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
        svg.starts_with("<svg") && svg.contains("<title>sqlite unit of 100 ops: "),
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
    for value in [["--i64", "+5"], ["--hex", "+f+f"]] {
        let output = enginedb(&["put", &url, r#"["k"]"#, value[0], value[1]]);
        assert!(!output.status.success(), "{value:?} accepted");
    }
    assert!(!enginedb(&["list", &url, "--cursor", "+1+1"]).status.success());
    assert_eq!(stdout(&enginedb(&["list", &url, "--all"])), "", "nothing written");
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
