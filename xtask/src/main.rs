//! `cargo xtask <command>`: the one entry point that sets up and runs everything.
//!
//! - `test`: formatting, lints, docs, every test, the conformance reports of every adapter in
//!   every mode, the quickstart, and the wasm32 build of the core. This is the project's test
//!   command; `.ci/run` calls exactly it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        _ => Err("usage: cargo xtask test".to_owned()),
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

/// One step of a run: a command, run from the workspace root.
struct Step {
    title: &'static str,
    program: &'static str,
    args: Vec<&'static str>,
    env: Vec<(&'static str, &'static str)>,
}

impl Step {
    fn cargo(title: &'static str, args: &[&'static str]) -> Self {
        Step {
            title,
            program: "cargo",
            args: args.to_vec(),
            env: Vec::new(),
        }
    }

    fn env(mut self, key: &'static str, value: &'static str) -> Self {
        self.env.push((key, value));
        self
    }

    fn run(&self) -> Result<(), String> {
        eprintln!("\n==> {}: {} {}", self.title, self.program, self.args.join(" "));
        let started = Instant::now();
        let status = Command::new(self.program)
            .args(&self.args)
            .envs(self.env.iter().copied())
            .current_dir(root())
            .status()
            .map_err(|e| format!("{}: cannot run {}: {e}", self.title, self.program))?;
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

fn test() -> Result<(), String> {
    let started = Instant::now();
    let mut steps = vec![
        Step::cargo("format", &["fmt", "--all", "--", "--check"]),
        Step::cargo(
            "lints",
            &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        ),
        Step::cargo("docs", &["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-Dwarnings"),
        Step::cargo("tests", &["test", "--workspace", "--", "--skip", "report_"]),
        Step::cargo(
            "conformance reports",
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
        Step::cargo("quickstart", &["run", "--quiet", "--package", "quickstart"]),
        Step::cargo(
            "postgres with tls",
            &["check", "--package", "enginedb-postgres", "--features", "tls"],
        ),
    ];
    if wasm32_installed() {
        steps.push(Step::cargo(
            "core on wasm32",
            &["build", "--package", "enginedb", "--target", "wasm32-unknown-unknown"],
        ));
    } else {
        eprintln!(
            "\nnote: the active toolchain has no wasm32-unknown-unknown target; the core's wasm32 build is not run"
        );
    }
    for step in &steps {
        step.run()?;
    }
    eprintln!(
        "\nxtask test: all {} steps passed in {:.0}s",
        steps.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whether the active toolchain can build for wasm32-unknown-unknown.
fn wasm32_installed() -> bool {
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output();
    let Ok(output) = sysroot else { return false };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Path::new(&sysroot)
        .join("lib/rustlib/wasm32-unknown-unknown/lib")
        .is_dir()
}
