//! `enginedb`: the command line of enginedb.
#![allow(clippy::print_stdout)] // a command line tool: stdout is its output

mod bench;
mod demo;
mod dump;
mod syntax;

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use enginedb::{Db, Error, Result, Selector, Value};
use indicatif::{ProgressBar, ProgressStyle};

/// Write storage logic once; run it on SQLite, redb, PostgreSQL or D1.
#[derive(Parser)]
#[command(name = "enginedb", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a small messaging scenario on an embedded SQLite file and shows each step's atomicity.
    Demo {
        /// Where to keep the database (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Runs the conformance suite against a live store, in a scratch namespace of it unless the
    /// URL names one, and removes what it wrote; exit status 1 on any failure.
    Check {
        /// memory://, sqlite://…, redb://… or postgres://…
        url: String,
    },
    /// Benchmarks the adapters against their raw drivers in one run; prints a Markdown table
    /// of the ratios and writes a chart (SVG). PostgreSQL runs on a throwaway cluster unless
    /// DATABASE_URL is set.
    Bench {
        /// A smoke run: fewer samples and smaller sizes (under a minute).
        #[arg(long)]
        quick: bool,
        /// The backends to run (default: all; repeat the option for several).
        #[arg(long, value_enum)]
        backend: Vec<bench::Backend>,
        /// Where to write the chart.
        #[arg(long, default_value = "enginedb-bench.svg")]
        chart: PathBuf,
        /// Also write the Markdown report to this file.
        #[arg(long)]
        markdown: Option<PathBuf>,
        /// Pin the whole run (its threads, and the throwaway PostgreSQL) to one CPU core, as on
        /// a one-core machine or container (Linux).
        #[arg(long)]
        one_core: bool,
    },
    /// Prints the entry at a key.
    Get {
        /// The store's URL.
        url: String,
        /// The key as a JSON array, e.g. '["users", 42]'.
        key: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Writes a value at a key.
    Put {
        /// The store's URL.
        url: String,
        /// The key as a JSON array.
        key: String,
        #[command(flatten)]
        value: ValueArgs,
    },
    /// Deletes a key.
    Delete {
        /// The store's URL.
        url: String,
        /// The key as a JSON array.
        key: String,
    },
    /// Lists the keys under a prefix (all keys by default).
    List {
        /// The store's URL.
        url: String,
        /// The prefix as a JSON array.
        #[arg(default_value = "[]")]
        prefix: String,
        /// At most this many entries (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Every entry, page after page (streamed; --limit is then the page size).
        #[arg(long)]
        all: bool,
        /// Resume after the last entry of an earlier listing (the cursor it printed).
        #[arg(long)]
        cursor: Option<enginedb::Cursor>,
        /// Descending order.
        #[arg(long)]
        reverse: bool,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Writes every entry of a store to a dump (format version 1, JSON lines).
    Export {
        /// The store's URL.
        url: String,
        /// The dump file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Loads a dump into a store, streaming, in one transaction: a bad line, a truncated dump
    /// or a store error leaves nothing written, unless --partial.
    Import {
        /// The store's URL.
        url: String,
        /// The dump file (default: standard input).
        #[arg(long, short)]
        input: Option<PathBuf>,
        /// Write units as the dump is read, and keep what was written before a failure.
        #[arg(long)]
        partial: bool,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct ValueArgs {
    /// The value as UTF-8 text.
    #[arg(long)]
    text: Option<String>,
    /// The value as hex bytes.
    #[arg(long)]
    hex: Option<String>,
    /// The value as an i64 counter.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_i64)]
    i64: Option<i64>,
    /// The value as the bytes of a file (`-`: standard input), for values too large for an
    /// argument.
    #[arg(long)]
    file: Option<PathBuf>,
}

/// The bytes of `path` (`-`: standard input), refused past the value limit without reading
/// further.
fn read_value(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let limit = enginedb::limits::MAX_VALUE_BYTES;
    let mut bytes = Vec::new();
    let source: Box<dyn std::io::Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?)
    };
    source
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
    if bytes.len() > limit {
        return Err(Error::LimitExceeded {
            what: "value bytes",
            limit: limit as u64,
            actual: bytes.len() as u64,
            nothing_written: true,
        });
    }
    Ok(bytes)
}

fn parse_i64(text: &str) -> Result<i64> {
    syntax::strict_i64(text)
}

impl ValueArgs {
    fn value(&self) -> Result<Value> {
        match (&self.text, &self.hex, self.i64, &self.file) {
            (Some(text), ..) => Ok(Value::from(text.as_str())),
            (_, Some(hex), ..) => syntax::unhex(hex).map(Value::Bytes),
            (_, _, Some(n), _) => Ok(Value::I64(n)),
            (.., Some(path)) => read_value(path).map(Value::Bytes),
            _ => Err(Error::invalid("give --text, --hex, --i64 or --file")),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // Before the runtime starts its threads, so that they inherit the pin.
    if let Command::Bench { one_core: true, .. } = &cli.command
        && let Err(error) = bench::pin_to_one_core()
    {
        eprintln!("enginedb: {error}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("enginedb: cannot start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        // The reader of our output went away (`enginedb list … | head -1`): it has what it wanted.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("enginedb: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `println!` that returns an error (a closed pipe among them) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        emit(format_args!($($arg)*))?
    };
}

/// Writes one line to standard output.
///
/// # Errors
/// `Backend` wrapping the I/O error (a closed pipe among them, see [`is_broken_pipe`]).
fn emit(line: impl std::fmt::Display) -> Result<()> {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| Error::backend("stdout", e))
}

/// Whether `error` is a line of output (see [`emit`]) sent to a pipe whose reader has gone.
fn is_broken_pipe(error: &Error) -> bool {
    match error {
        Error::Backend { adapter, source, .. } if adapter == "stdout" => source
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe),
        _ => false,
    }
}

/// `url` with the query parameter `param` (`name=value`) added.
fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

/// `url` for a read command: a SQLite or redb file is opened read-only (`mode=ro`, unless the
/// URL chooses a mode), so a read never creates a store (a mistyped path is an error, not an
/// empty store), takes no write lock, and works on read-only files.
fn for_reading(url: &str) -> Result<String> {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    if !matches!(scheme, "sqlite" | "redb") {
        return Ok(url.to_owned());
    }
    let parsed = enginedb_kit::store::FileUrl::parse(url, scheme)?;
    match parsed.location {
        enginedb_kit::store::Location::File(_) if parsed.read_only.is_none() => Ok(with_param(url, "mode=ro")),
        _ => Ok(url.to_owned()),
    }
}

/// Warns that a write to `memory://` is gone when the command exits.
fn warn_if_memory(url: &str) {
    if url.starts_with("memory:") {
        eprintln!("enginedb: warning: memory:// keeps nothing once this command exits");
    }
}

fn counter(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}: {pos} entries") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn show(value: &Value) -> String {
    value.to_string()
}

/// `url` with a scratch namespace of its own when it names none (and where the store takes
/// one), and where the suite will run, in words.
fn scratch(url: &str) -> (String, String) {
    let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
    if url.contains("namespace=") || scheme == "memory" {
        return (url.to_owned(), format!("in the {scheme} store the URL names"));
    }
    let namespace = format!("enginedb_check_{}", std::process::id());
    let place = format!("in the scratch namespace {namespace} of the {scheme} store");
    (with_param(url, &format!("namespace={namespace}")), place)
}

/// Opens the store `url` names, runs `body` on it, and closes it whatever `body` returned, so
/// that SQLite's WAL is flushed and redb is closed cleanly before the command exits.
async fn with_store<T>(url: &str, body: impl AsyncFnOnce(&Db) -> Result<T>) -> Result<T> {
    let db = enginedb_open::open(url).await?;
    let result = body(&db).await;
    // What the command did stands: a store that did not close cleanly is worth a warning.
    if let Err(error) = db.close().await {
        eprintln!("enginedb: warning: the store did not close cleanly: {error}");
    }
    result
}

async fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Demo { dir } => demo::run(dir).await,
        Command::Check { url } => {
            let (url, place) = scratch(&url);
            with_store(&url, async |db| {
                let spinner = ProgressBar::new_spinner().with_message(format!("running the conformance suite {place}"));
                spinner.enable_steady_tick(Duration::from_millis(100));
                let report = enginedb_conformance::run_all(db).await;
                spinner.finish_and_clear();
                // The exit status says how the suite went, even when the report's reader left.
                let _ = emit(&report);
                match &report.cleanup_error {
                    None => eprintln!("ran {place}; what it wrote was removed"),
                    Some(error) => eprintln!("ran {place}; removing what it wrote failed: {error}"),
                }
                Ok(if report.is_success() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            })
            .await
        }
        Command::Bench {
            quick,
            backend,
            chart,
            markdown,
            one_core,
        } => {
            let backends = if backend.is_empty() {
                bench::Backend::ALL.to_vec()
            } else {
                backend
            };
            let plan = if quick { bench::Plan::QUICK } else { bench::Plan::FULL };
            let dir = tempfile::tempdir().map_err(|e| Error::backend("bench", e))?;
            let results = bench::run(&backends, plan, dir.path(), one_core).await?;
            let report = bench::markdown(&results);
            if cfg!(debug_assertions) {
                out!("(a debug build: the ratios are not representative; use `cargo run --release`)\n");
            }
            out!("{report}");
            let write = |path: &PathBuf, text: &str| {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| Error::backend("bench", e))?;
                }
                std::fs::write(path, text).map_err(|e| Error::backend("bench", e))
            };
            write(&chart, &bench::svg(&results))?;
            eprintln!("chart written to {}", chart.display());
            if let Some(path) = markdown {
                write(&path, &report)?;
                eprintln!("report written to {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Get { url, key, json } => {
            let key = syntax::key(&key)?;
            let url = for_reading(&url)?;
            with_store(&url, async |db| {
                match db.get(&key).await? {
                    Some(entry) if json => emit(
                        serde_json::json!({ "k": syntax::key_json(&entry.key), "v": syntax::value_json(&entry.value), "version": entry.version.0 }),
                    )?,
                    Some(entry) => emit(format_args!("{} = {} (v{})", entry.key, show(&entry.value), entry.version))?,
                    None => {
                        eprintln!("{key}: not found");
                        return Ok(ExitCode::FAILURE);
                    }
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        Command::Put { url, key, value } => {
            let (key, value) = (syntax::key(&key)?, value.value()?);
            warn_if_memory(&url);
            let version = with_store(&url, async |db| db.set(key.clone(), value).await).await?;
            out!("{key} written at version {version}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Delete { url, key } => {
            let key = syntax::key(&key)?;
            warn_if_memory(&url);
            with_store(&url, async |db| db.delete(key.clone()).await).await?;
            out!("{key} deleted");
            Ok(ExitCode::SUCCESS)
        }
        Command::List {
            url,
            prefix,
            limit,
            all,
            cursor,
            reverse,
            json,
        } => {
            let prefix = syntax::key(&prefix)?;
            let url = for_reading(&url)?;
            let print = |entry: &enginedb::Entry| {
                if json {
                    emit(
                        serde_json::json!({ "k": syntax::key_json(&entry.key), "v": syntax::value_json(&entry.value) }),
                    )
                } else {
                    emit(format_args!("{} = {}", entry.key, show(&entry.value)))
                }
            };
            with_store(&url, async |db| {
                let list = db.list(Selector::prefix(prefix)).limit(limit).after(cursor);
                let list = if reverse { list.reverse() } else { list };
                if all {
                    let mut entries = std::pin::pin!(list.stream());
                    while let Some(entry) = futures::TryStreamExt::try_next(&mut entries).await? {
                        print(&entry)?;
                    }
                    return Ok(());
                }
                let page = list.page().await?;
                page.entries.iter().try_for_each(print)?;
                if let Some(cursor) = page.cursor {
                    eprintln!("(more entries follow: resume with --cursor {cursor}, or list them all with --all)");
                }
                Ok(())
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { url, output } => {
            let url = for_reading(&url)?;
            let progress = counter("exported");
            let count = with_store(&url, async |db| match output {
                // A file is replaced only by a complete dump: written beside it, then renamed.
                Some(path) => {
                    let io = |e: std::io::Error| Error::backend("export", e);
                    let dir = path
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(std::path::Path::new("."));
                    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
                    let count = dump::export(db, &mut BufWriter::new(file.as_file_mut()), &progress).await?;
                    file.persist(&path).map_err(|e| io(e.error))?;
                    Ok(count)
                }
                None => dump::export(db, &mut BufWriter::new(std::io::stdout().lock()), &progress).await,
            })
            .await?;
            progress.finish_and_clear();
            eprintln!("exported {count} entries from {url}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { url, input, partial } => {
            warn_if_memory(&url);
            let input: Box<dyn std::io::BufRead> = match &input {
                Some(path) => Box::new(BufReader::new(
                    std::fs::File::open(path).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?,
                )),
                None => Box::new(std::io::stdin().lock()),
            };
            let reader = dump::Reader::new(input)?;
            let progress = counter("imported");
            let imported = with_store(&url, async |db| {
                if partial {
                    let (written, outcome) = dump::import_partial(db, reader, &progress).await;
                    Ok((written, outcome))
                } else {
                    Ok(match dump::import_all(db, reader, &progress).await {
                        Ok(count) => (count, Ok(())),
                        Err(error) => (0, Err(error)),
                    })
                }
            })
            .await?;
            progress.finish_and_clear();
            match imported {
                (count, Ok(())) => {
                    eprintln!("imported {count} entries into {url}");
                    Ok(ExitCode::SUCCESS)
                }
                (written, Err(error)) if partial => {
                    eprintln!("enginedb: {error}; {written} entries before it were imported (--partial)");
                    Ok(ExitCode::FAILURE)
                }
                (_, Err(error)) if error.kind() == enginedb::ErrorKind::OutcomeUnknown => {
                    eprintln!("enginedb: {error}");
                    Ok(ExitCode::FAILURE)
                }
                (_, Err(error)) => {
                    eprintln!("enginedb: {error}; nothing was imported (--partial keeps what comes before the error)");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
