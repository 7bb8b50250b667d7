//! Opening connections: a writable store's writer and readers (creating the file and schema),
//! or an existing store's read-only ones; and the schema check both make.

use std::path::{Path, PathBuf};
use std::time::Duration;

use enginedb::{Error, Result};
use enginedb_sql::schema;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::config::{Durability, Location, SqliteConfig};
use crate::exec::{self, map_err};

/// How this store's connections are opened; kept to open more (inline readers) later.
pub(crate) struct Opener {
    path: PathBuf,
    busy_timeout: Duration,
    access: Access,
}

enum Access {
    /// Reads and writes, with this `synchronous` setting.
    Writable { synchronous: &'static str },
    /// An existing store, read only; `immutable` where SQLite cannot have the WAL's index.
    ReadOnly { immutable: bool },
}

impl Opener {
    /// A writable store at `path` (created if missing, its schema too): the opener and the
    /// writer's connection.
    pub(crate) fn writable(path: PathBuf, config: &SqliteConfig) -> Result<(Opener, Connection)> {
        let synchronous = match (&config.location, config.durability) {
            (Location::Memory, _) => "OFF",
            (_, Durability::Full) => "FULL",
            (_, Durability::Relaxed) => "NORMAL",
        };
        let opener = Opener {
            path,
            busy_timeout: config.busy_timeout,
            access: Access::Writable { synchronous },
        };
        let mut writer = opener.connect(false)?;
        create_schema(&mut writer)?;
        Ok((opener, writer))
    }

    /// The existing store at `path`, for reading only, its schema checked: the opener and a
    /// first connection. Where SQLite cannot have the WAL's index because the file system is
    /// read-only, and no WAL is left, the file is opened immutable: nobody can be writing it.
    pub(crate) fn read_only(path: PathBuf, config: &SqliteConfig) -> Result<(Opener, Connection)> {
        if !path.is_file() {
            return Err(Error::invalid(format!(
                "there is no SQLite store at {} (mode=ro never creates one)",
                path.display()
            )));
        }
        let mut opener = Opener {
            path,
            busy_timeout: config.busy_timeout,
            access: Access::ReadOnly { immutable: false },
        };
        let mut wal = opener.path.as_os_str().to_owned();
        wal.push("-wal");
        let first = match opener.reader() {
            Ok(first) => first,
            Err(error) if Path::new(&wal).exists() || !on_read_only_media(&opener.path) => return Err(error),
            Err(error) => {
                opener.access = Access::ReadOnly { immutable: true };
                opener.reader().map_err(|_| error)?
            }
        };
        Ok((opener, first))
    }

    /// A connection that only reads.
    pub(crate) fn reader(&self) -> Result<Connection> {
        self.connect(true)
    }

    fn connect(&self, query_only: bool) -> Result<Connection> {
        let connection = match self.access {
            Access::Writable { .. } => Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            Access::ReadOnly { immutable } => Connection::open_with_flags(
                file_uri(&self.path, immutable)?,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            ),
        }
        .map_err(map_err)?;
        connection.busy_timeout(self.busy_timeout).map_err(map_err)?;
        connection.set_prepared_statement_cache_capacity(64);
        match self.access {
            Access::Writable { synchronous } => {
                let journal: String = connection
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                    .map_err(map_err)?;
                if !journal.eq_ignore_ascii_case("wal") {
                    return Err(Error::backend(
                        "sqlite",
                        format!("cannot switch {} to WAL (got {journal})", self.path.display()),
                    ));
                }
                let query_only = if query_only { "ON" } else { "OFF" };
                let pragmas = format!("PRAGMA synchronous = {synchronous}; PRAGMA query_only = {query_only};");
                connection.execute_batch(&pragmas).map_err(map_err)?;
            }
            // The first read: where the WAL's index cannot be had, it fails here.
            Access::ReadOnly { .. } => {
                if !check_schema(&connection)? {
                    return Err(Error::invalid(format!(
                        "{} holds no enginedb store",
                        self.path.display()
                    )));
                }
            }
        }
        Ok(connection)
    }
}

/// Whether the directory of `path` is on a read-only file system (so no process can be writing
/// the store in it): a file cannot be created there for that reason.
fn on_read_only_media(path: &Path) -> bool {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::tempfile_in(dir).is_err_and(|e| e.kind() == std::io::ErrorKind::ReadOnlyFilesystem)
}

/// `path` as an SQLite URI that opens it read-only, and `immutable` if asked.
fn file_uri(path: &Path, immutable: bool) -> Result<String> {
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let text = path
        .to_str()
        .ok_or_else(|| Error::invalid(format!("{} is not a UTF-8 path", path.display())))?;
    let path = percent_encoding::utf8_percent_encode(text, ESCAPED);
    let immutable = if immutable { "&immutable=1" } else { "" };
    Ok(format!("file:{path}?mode=ro{immutable}"))
}

/// Whether the database holds an enginedb schema; refuses a newer one, and one whose version
/// counter is gone (versions would start again below those stored).
fn check_schema(connection: &Connection) -> Result<bool> {
    let exists: i64 = connection
        .query_row(schema::SQLITE_META_EXISTS, [], |r| r.get(0))
        .map_err(map_err)?;
    if exists == 0 {
        return Ok(false);
    }
    let recorded: Option<String> = connection
        .query_row(schema::SQLITE_SCHEMA_VERSION, [], |r| r.get(0))
        .optional()
        .map_err(map_err)?;
    schema::check_version(recorded.as_deref(), schema::SCHEMA_VERSION)?;
    exec::last_version(connection)?;
    Ok(true)
}

/// Refuses a newer schema before touching anything, then creates what is missing.
fn create_schema(connection: &mut Connection) -> Result<()> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    check_schema(&tx)?;
    for statement in schema::SQLITE_CREATE {
        tx.execute_batch(statement).map_err(map_err)?;
    }
    tx.commit().map_err(map_err)
}
