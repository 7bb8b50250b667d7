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
