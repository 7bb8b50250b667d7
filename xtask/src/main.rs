//! `cargo xtask <command>`: the one entry point that sets up and runs everything.
//!
//! - `test`: formatting, lints, docs, every test (PostgreSQL tests start their own throwaway
//!   cluster; one test opens a SQLite store with Debian's `sqlite3`, installed if missing; the
//!   conformance suite runs once per adapter and mode, one test per case), the tests that print
//!   figures (`report_*`, one at a time), `enginedb demo` (the README's run command), the
//!   quickstart, `enginedb bench --quick` (smoke runs: all backends, then SQLite and redb on one
//!   core), the TLS build of the PostgreSQL adapter, `cargo package` of every published crate,
//!   and the D1 adapter's suite and the relay Worker inside workerd (see [`d1`]).
//!   This is the project's test command; `.ci/run` calls exactly it.
//! - `d1`: only the D1 step.

mod d1;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("d1") => d1::test(),
        _ => Err("usage: cargo xtask test | cargo xtask d1".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), Path::to_path_buf)
}

/// A progress line on stderr.
fn status(message: &str) {
    eprintln!("\n--- {message}");
}

/// One step of a run: a command, run from the workspace root unless told otherwise.
struct Step {
    title: &'static str,
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    removed: Vec<&'static str>,
    dir: PathBuf,
}

/// `enginedb bench --quick`, the smoke runs' common start.
const QUICK_BENCH: &[&str] = &["run", "--quiet", "--package", "enginedb-cli", "--", "bench", "--quick"];

impl Step {
    fn program(title: &'static str, program: &Path) -> Self {
        Step {
            title,
            program: program.as_os_str().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            removed: Vec::new(),
            dir: root(),
        }
    }

    fn cargo(title: &'static str, args: &[&str]) -> Self {
        Step::program(title, Path::new("cargo")).args(args)
    }

    fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    fn arg(mut self, arg: &Path) -> Self {
        self.args.push(arg.as_os_str().to_owned());
        self
    }

    fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.env.push((key.into(), value.as_ref().to_owned()));
        self
    }

    fn without(mut self, keys: &[&'static str]) -> Self {
        self.removed.extend(keys);
        self
    }

    fn current_dir(mut self, dir: &Path) -> Self {
        self.dir = dir.to_path_buf();
        self
    }

    /// The command, ready to run or spawn.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.env.iter().cloned())
            .current_dir(&self.dir);
        for key in &self.removed {
            command.env_remove(key);
        }
        command
    }

    fn run(&self) -> Result<(), String> {
        let shown: Vec<String> = self.args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        eprintln!(
            "\n==> {}: {} {}",
            self.title,
            self.program.to_string_lossy(),
            shown.join(" ")
        );
        let started = Instant::now();
        let status = self
            .command()
            .status()
            .map_err(|e| format!("{}: cannot run {}: {e}", self.title, self.program.to_string_lossy()))?;
        eprintln!(
            "<== {}: {status} in {:.1}s",
            self.title,
            started.elapsed().as_secs_f64()
        );
        if status.success() {
            Ok(())
        } else {
            Err(format!("{} failed ({status})", self.title))
        }
    }
}

/// Debian's `sqlite3` command, which a test opens an enginedb store with: installed if missing.
fn stock_sqlite3() -> Result<(), String> {
    let found = Command::new("sqlite3").arg("--version").output();
    if found.is_ok_and(|out| out.status.success()) {
        return Ok(());
    }
    status("installing Debian's sqlite3 (a test opens a store with it)");
    Step::program("apt-get update", Path::new("apt-get"))
        .args(&["update", "-qq"])
        .run()?;
    Step::program("apt-get install sqlite3", Path::new("apt-get"))
        .args(&["install", "-y", "-qq", "sqlite3"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

fn test() -> Result<(), String> {
    let started = Instant::now();
    let steps = [
        Step::cargo("format", &["fmt", "--all", "--", "--check"]),
        Step::cargo(
            "lints",
            &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        ),
        Step::cargo("docs", &["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-Dwarnings"),
        Step::cargo("tests", &["test", "--workspace", "--", "--skip", "report_"]),
        Step::cargo(
            "reports (tests that print figures: hot-key races, PostgreSQL round trips and crashes)",
            &[
                "test",
                "--workspace",
                "--test",
                "*",
                "report_",
                "--",
                "--nocapture",
                "--test-threads=1",
            ],
        ),
        Step::cargo(
            "the README's run command",
            &[
                "run",
                "--quiet",
                "--package",
                "enginedb-cli",
                "--no-default-features",
                "--",
                "demo",
            ],
        ),
        Step::cargo("quickstart", &["run", "--quiet", "--package", "quickstart"]),
        Step::cargo("bench smoke run (no thresholds)", QUICK_BENCH).args(&[
            "--chart",
            "target/bench/quick.svg",
            "--markdown",
            "target/bench/quick.md",
        ]),
        Step::cargo("bench smoke run on one core (no thresholds)", QUICK_BENCH).args(&[
            "--one-core",
            "--backend",
            "sqlite",
            "--backend",
            "redb",
            "--chart",
            "target/bench/one-core.svg",
            "--markdown",
            "target/bench/one-core.md",
        ]),
        Step::cargo(
            "postgres with tls",
            &["check", "--package", "enginedb-postgres", "--features", "tls"],
        ),
        // Every crate but these (`publish = false`) must package; dependencies on the
        // workspace's other crates are not on the registry yet, hence no verifying build.
        Step::cargo(
            "cargo package of the published crates",
            &[
                "package",
                "--workspace",
                "--no-verify",
                "--allow-dirty",
                "--quiet",
                "--exclude",
                "enginedb-testkit",
                "--exclude",
                "enginedb-d1-worker",
                "--exclude",
                "relay",
                "--exclude",
                "relay-worker",
                "--exclude",
                "quickstart",
                "--exclude",
                "contributions",
                "--exclude",
                "xtask",
            ],
        ),
    ];
    stock_sqlite3()?;
    for step in &steps {
        step.run()?;
    }
    let d1_started = Instant::now();
    d1::test()?;
    eprintln!(
        "\nd1 (setup, build, workerd) took {:.0}s",
        d1_started.elapsed().as_secs_f64()
    );
    eprintln!(
        "\nxtask test: every step passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
