//! The relay Worker (`examples/relay/worker`), run the way its README tells Cloudflare users to
//! run it, offline:
//!
//! 1. its migration must hold the schema enginedb creates (`cargo test -p relay-worker`);
//! 2. `worker-build --release --no-opt` compiles it (worker-build's tools pointed at the
//!    cache), so that compile errors show as such;
//! 3. `wrangler d1 migrations apply DB --local` creates the schema in a fresh local D1;
//! 4. `wrangler dev --local` serves it (running the `[build]` command of `wrangler.toml`
//!    itself, as for users), and `smoke.mjs` drives it over HTTP: send, reply, read, mark read,
//!    inboxes, and `GET /selftest` answered 404;
//! 5. a second `wrangler dev`, with `--var ENGINEDB_SELFTEST:1`, must pass `GET /selftest`;
//! 6. a third, with `--var WEBHOOK_URL:…` and `--test-scheduled`, must post a send's webhook
//!    to a receiver `smoke.mjs` runs, once, from a scheduled run.
//!
//! wrangler's state, logs and registry live under `target/relay-worker`; each `wrangler dev`
//! is stopped, with everything it started, when its run ends, failed or not.

use std::fs::{self, File};
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::Tools;
use crate::{Step, root};

/// How long `wrangler dev` may take to build and serve the Worker.
const READY_WITHIN: Duration = Duration::from_secs(600);

/// Runs the six steps above.
pub(super) fn test(tools: &Tools) -> Result<(), String> {
    Step::cargo(
        "relay worker: migration holds the schema",
        &["test", "--quiet", "--package", "relay-worker", "--test", "migration"],
    )
    .run()?;
    // Without wasm-opt (its Node build takes ~20 s): `wrangler dev` runs the optimized build.
    let build = Step::program("relay worker: compile (worker-build)", &tools.bin.join("worker-build"))
        .args(&["--release", "--no-opt"])
        .current_dir(&worker_dir());
    tools.worker_build(build).run()?;

    let work = fresh_dir(&root().join("target").join("relay-worker"))?;
    let state = work.join("state");
    wrangler(tools, "relay worker: wrangler d1 migrations apply", &work)
        .args(&["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(&state)
        .run()?;

    let plain = Dev::start(tools, &work, "dev", &[])?;
    plain.smoke(tools, "relay worker: smoke test over HTTP", &[])?;
    drop(plain);
    let flagged = Dev::start(tools, &work, "dev-selftest", &["--var", "ENGINEDB_SELFTEST:1"])?;
    flagged.smoke(
        tools,
        "relay worker: GET /selftest with ENGINEDB_SELFTEST=1",
        &["--selftest"],
    )?;
    drop(flagged);
    let hook = free_port()?.to_string();
    let webhook_var = format!("WEBHOOK_URL:http://127.0.0.1:{hook}/hook");
    let hooked = Dev::start(
        tools,
        &work,
        "dev-webhooks",
        &["--var", &webhook_var, "--test-scheduled"],
    )?;
    hooked.smoke(
        tools,
        "relay worker: webhooks posted by a scheduled run",
        &["--webhooks", &hook],
    )
}

fn worker_dir() -> PathBuf {
    root().join("examples").join("relay").join("worker")
}

/// `dir`, emptied.
fn fresh_dir(dir: &Path) -> Result<PathBuf, String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    Ok(dir.to_path_buf())
}

/// A wrangler command in the Worker's directory, with Node 22 and worker-build's tools on
/// hand, and nothing sent or written outside `work`.
fn wrangler(tools: &Tools, title: &'static str, work: &Path) -> Step {
    let step = Step::program(title, &tools.node())
        .arg(&tools.npm("wrangler/bin/wrangler.js"))
        .current_dir(&worker_dir())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
        .env("WRANGLER_LOG_PATH", work.join("logs"))
        .env("WRANGLER_REGISTRY_PATH", work.join("registry"))
        .env("DO_NOT_TRACK", "1")
        .env("NO_COLOR", "1")
        .env("CI", "1");
    tools.worker_build(step)
}

/// A port nobody listens on now.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A running `wrangler dev`, stopped (with everything it started) when dropped.
struct Dev {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Dev {
    /// Starts `wrangler dev` on a free port with the local D1 under `work/state`, output to
    /// `work/<name>.log`, and waits until it serves.
    fn start(tools: &Tools, work: &Path, name: &str, extra: &[&str]) -> Result<Dev, String> {
        let port = free_port()?.to_string();
        let inspector = free_port()?.to_string();
        let log = work.join(format!("{name}.log"));
        let out = File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let step = wrangler(tools, "relay worker: wrangler dev", work)
            .args(&["dev", "--local", "--ip", "127.0.0.1", "--port", &port])
            .args(&["--inspector-port", &inspector, "--show-interactive-dev-session=false"])
            .args(&["--persist-to"])
            .arg(&work.join("state"))
            .args(extra);
        eprintln!(
            "\n==> relay worker: wrangler dev on port {port} {} (log: {})",
            extra.join(" "),
            log.display()
        );
        let child = step
            .command()
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start wrangler dev: {e}"))?;
        let mut dev = Dev {
            child,
            log,
            url: format!("http://127.0.0.1:{port}"),
        };
        dev.wait_ready()?;
        Ok(dev)
    }

    /// Waits for wrangler's "Ready on" line; fails with its output if it exits or takes too long.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if self.output().contains("Ready on http") {
                eprintln!(
                    "<== relay worker: wrangler dev ready in {:.1}s",
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("wrangler dev exited ({status}) before serving{}", self.tail()));
            }
            if started.elapsed() > READY_WITHIN {
                return Err(format!(
                    "wrangler dev did not serve within {}s{}",
                    READY_WITHIN.as_secs(),
                    self.tail()
                ));
            }
            sleep(Duration::from_millis(250));
        }
    }

    /// Runs `smoke.mjs` against this Worker; on failure, says what wrangler printed.
    fn smoke(&self, tools: &Tools, title: &'static str, args: &[&str]) -> Result<(), String> {
        Step::program(title, &tools.node())
            .arg(&worker_dir().join("smoke.mjs"))
            .args(&[self.url.as_str()])
            .args(args)
            .run()
            .map_err(|e| format!("{e}{}", self.tail()))
    }

    /// Everything wrangler printed so far.
    fn output(&self) -> String {
        let mut text = String::new();
        let _ = File::open(&self.log).and_then(|mut f| f.read_to_string(&mut text));
        text
    }

    /// The end of wrangler's output, to show with an error.
    fn tail(&self) -> String {
        let text = self.output();
        let lines: Vec<&str> = text.lines().collect();
        let last = lines.len().saturating_sub(60);
        let shown = lines.get(last..).unwrap_or_default().join("\n");
        format!("\n--- last lines of {}:\n{shown}\n---", self.log.display())
    }
}

impl Drop for Dev {
    /// Stops wrangler and everything it started (workerd, the build command): SIGTERM to each,
    /// SIGKILL to those still there after five seconds. They stay in the xtask's process group,
    /// so an interrupt (Ctrl-C) reaches them too.
    fn drop(&mut self) {
        let tree = process_tree(self.child.id());
        signal("-TERM", &tree);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            sleep(Duration::from_millis(100));
        }
        let left: Vec<u32> = tree
            .into_iter()
            .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
            .collect();
        signal("-KILL", &left);
        let _ = self.child.wait();
    }
}

/// Sends `signal` (`-TERM`, `-KILL`) to `pids`.
fn signal(signal: &str, pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(signal)
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

/// `root` and its descendants, as `/proc` shows them now.
fn process_tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (command) state ppid …`; the command may hold spaces and parentheses.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut tree = vec![root];
    let mut next = 0;
    while let Some(&parent) = tree.get(next) {
        tree.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        next += 1;
    }
    tree
}
