//! A PostgreSQL server for tests and benchmarks: `DATABASE_URL` when set, else a throwaway
//! cluster that the process creates itself (initdb in a temporary directory, on 127.0.0.1 and a free port, as
//! the `postgres` user when run as root) and that is stopped when the test process ends. A
//! server that cannot be had is an error for the caller to fail on, never a skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A running server.
pub struct PgServer {
    /// Its URL.
    pub url: String,
    cluster: Option<Cluster>,
}

/// A throwaway cluster this process created.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// The user the server runs as when the tests run as root (initdb refuses root).
    user: Option<String>,
}

impl PgServer {
    /// The URL of the server every caller in this process shares (started on first use,
    /// stopped when the process exits).
    ///
    /// # Errors
    /// Why no server could be had (a test fails on it: it never skips).
    pub fn shared() -> Result<&'static str, String> {
        static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
        match SERVER.get_or_init(PgServer::start) {
            Ok(server) => Ok(&server.url),
            Err(error) => Err(format!("no PostgreSQL server: {error}")),
        }
    }

    /// `DATABASE_URL`'s server, or a new throwaway cluster.
    pub fn start() -> Result<PgServer, String> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Ok(PgServer { url, cluster: None });
        }
        PgServer::throwaway()
    }

    /// A new throwaway cluster, whatever `DATABASE_URL` says (for tests that stop the server).
    pub fn throwaway() -> Result<PgServer, String> {
        let bin = find_bin().ok_or("initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin")?;
        let user = run_as()?;
        let dir = tempfile::Builder::new()
            .prefix("enginedb-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        if let Some(user) = &user {
            run("chown", &[&format!("{user}:"), path(&dir)?])?;
        }
        let cluster = Cluster { dir, bin, user };
        let data = cluster.dir.join("data");
        cluster.pg(
            "initdb",
            &[
                "-D",
                path(&data)?,
                "-U",
                "enginedb",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        let port = free_port()?;
        std::fs::write(
            data.join("postgresql.auto.conf"),
            format!(
                "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n\
                 max_connections = 300\nshared_buffers = '64MB'\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        cluster.start()?;
        cluster.watch(std::process::id())?;
        Ok(PgServer {
            url: format!("postgres://enginedb@127.0.0.1:{port}/postgres"),
            cluster: Some(cluster),
        })
    }

    /// Stops the server the way a crash would (`pg_ctl stop -m immediate`).
    pub fn crash(&self) -> Result<(), String> {
        let cluster = self.cluster.as_ref().ok_or("cannot stop a DATABASE_URL server")?;
        cluster.pg(
            "pg_ctl",
            &["-D", path(&cluster.dir.join("data"))?, "-m", "immediate", "stop"],
        )
    }

    /// Starts the server again after [`PgServer::crash`].
    pub fn restart(&self) -> Result<(), String> {
        self.cluster
            .as_ref()
            .ok_or("cannot start a DATABASE_URL server")?
            .start()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Some(cluster) = &self.cluster {
            if let Ok(data) = path(&cluster.dir.join("data")) {
                let _ = cluster.pg("pg_ctl", &["-D", data, "-m", "fast", "stop"]);
            }
            let _ = std::fs::remove_dir_all(&cluster.dir);
        }
    }
}

impl Cluster {
    /// Runs a PostgreSQL tool as the server's user.
    fn pg(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let tool = self.bin.join(tool);
        let tool = path(&tool)?;
        match &self.user {
            Some(user) => run("runuser", &[&["-u", user.as_str(), "--", tool], args].concat()),
            None => run(tool, args),
        }
    }

    fn start(&self) -> Result<(), String> {
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        self.pg(
            "pg_ctl",
            &["-D", path(&data)?, "-l", path(&log)?, "-w", "-t", "60", "start"],
        )
    }

    /// Stops the cluster and removes it once the process `pid` is gone, however it ends.
    fn watch(&self, pid: u32) -> Result<(), String> {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{} -D {} -m immediate stop",
            path(&pg_ctl)?,
            path(&self.dir.join("data"))?
        );
        let stop = match &self.user {
            Some(user) => format!("runuser -u {user} -- {stop}"),
            None => stop,
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {}",
            path(&self.dir)?
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|e| format!("cannot start the cluster's watchdog: {e}"))
    }
}

fn path(p: &Path) -> Result<&str, String> {
    p.to_str().ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {} failed ({}): {}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The directory holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin.
fn find_bin() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|dir| has_tools(dir));
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|dir| has_tools(dir))
            .collect();
        versions.sort_by_key(|dir| {
            dir.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.pop()
    })
}

/// `None` when not root; else the unprivileged user to run the server as.
fn run_as() -> Result<Option<String>, String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Ok(None);
    }
    if Command::new("id")
        .arg("postgres")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(Some("postgres".into()));
    }
    run("useradd", &["--system", "--no-create-home", "enginedb-pg"])?;
    Ok(Some("enginedb-pg".into()))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}
