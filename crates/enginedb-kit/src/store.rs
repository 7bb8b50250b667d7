//! File-backed stores: where they live, how durable their commits are, and the one URL grammar
//! every such adapter takes: `SCHEME://relative/path`, `SCHEME:///absolute/path` or
//! `SCHEME::memory:`, with optional
//! `?namespace=NAME&durability=full|relaxed&readers=N&mode=ro|rw&reads=threads|inline`.
//! Paths and parameters are percent-decoded; a parameter given twice is refused.

use std::path::PathBuf;

use enginedb::port::validate_namespace;
use enginedb::{Error, Result};

/// The most reader threads or connections a store may be given.
pub const MAX_READERS: usize = 64;

/// Where the database lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A database file (created if missing).
    File(PathBuf),
    /// A private database that is gone when the last handle is closed. Not durable; for tests
    /// and scratch work.
    Memory,
}

/// What a commit waits for before it is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Persisted when the commit returns: an acknowledged unit survives a process kill and a
    /// power loss. The default.
    #[default]
    Full,
    /// Atomic and visible at once, persisted a little later: after a power loss (SQLite) or
    /// a crash (redb) the last units may be lost — never half of one.
    Relaxed,
}

/// A parsed file-store URL. The parameters every file store takes are parsed here; the rest
/// are left in `params` for the adapter, which refuses those it does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUrl {
    /// Where the database lives.
    pub location: Location,
    /// `namespace=NAME`, validated.
    pub namespace: Option<String>,
    /// `durability=full|relaxed`.
    pub durability: Option<Durability>,
    /// `readers=N`, from 1 to [`MAX_READERS`].
    pub readers: Option<usize>,
    /// `mode=ro` (`Some(true)`) or `mode=rw`: open an existing store for reading only, or
    /// for reading and writing (the default).
    pub read_only: Option<bool>,
    /// `reads=inline` (`Some(true)`) or `reads=threads` (the default): whether reads run on
    /// the caller's thread.
    pub inline_reads: Option<bool>,
    /// The other query parameters, in order, decoded.
    pub params: Vec<(String, String)>,
}

impl FileUrl {
    /// Parses `url`, which must use `scheme`.
    ///
    /// # Errors
    /// `InvalidInput` for another scheme, a URL naming no file, or a bad or repeated
    /// parameter. The message quotes only the scheme, never the rest of the URL.
    pub fn parse(url: &str, scheme: &str) -> Result<FileUrl> {
        let rest = url
            .strip_prefix(scheme)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or_else(|| Error::invalid(format!("not a {scheme}: URL")))?;
        let (target, query) = rest.split_once('?').unwrap_or((rest, ""));
        let location = match target {
            ":memory:" | "//:memory:" => Location::Memory,
            _ => match target.strip_prefix("//") {
                Some(path) if !path.is_empty() => Location::File(PathBuf::from(decode_path(path)?)),
                _ => return Err(Error::invalid(format!("the {scheme}: URL names no database file"))),
            },
        };
        let mut parsed = FileUrl {
            location,
            namespace: None,
            durability: None,
            readers: None,
            read_only: None,
            inline_reads: None,
            params: Vec::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if seen.iter().any(|s| *s == name) {
                return Err(Error::invalid(format!("URL parameter {name} is given twice")));
            }
            seen.push(name.to_string());
            match name.as_ref() {
                "namespace" => {
                    validate_namespace(&value)?;
                    parsed.namespace = Some(value.into_owned());
                }
                "durability" => parsed.durability = Some(durability(&value)?),
                "readers" => parsed.readers = Some(readers(&value)?),
                "mode" => parsed.read_only = Some(read_only(&value)?),
                "reads" => parsed.inline_reads = Some(inline_reads(&value)?),
                _ => parsed.params.push((name.into_owned(), value.into_owned())),
            }
        }
        Ok(parsed)
    }

    /// The error for a parameter the adapter does not know.
    pub fn unknown(name: &str, value: &str) -> Error {
        Error::invalid(format!("unknown URL parameter {name}={value}"))
    }

    /// Refuses every parameter left in `params`.
    ///
    /// # Errors
    /// `InvalidInput` naming the first one.
    pub fn no_other_params(&self) -> Result<()> {
        match self.params.first() {
            Some((name, value)) => Err(FileUrl::unknown(name, value)),
            None => Ok(()),
        }
    }
}

fn decode_path(path: &str) -> Result<String> {
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map(|p| p.into_owned())
        .map_err(|_| Error::invalid("the URL's path is not UTF-8 once percent-decoded"))
}

fn durability(value: &str) -> Result<Durability> {
    match value {
        "full" => Ok(Durability::Full),
        "relaxed" => Ok(Durability::Relaxed),
        _ => Err(Error::invalid(format!("durability={value:?} is not full or relaxed"))),
    }
}

fn read_only(value: &str) -> Result<bool> {
    match value {
        "ro" => Ok(true),
        "rw" => Ok(false),
        _ => Err(Error::invalid(format!("mode={value:?} is not ro or rw"))),
    }
}

fn inline_reads(value: &str) -> Result<bool> {
    match value {
        "inline" => Ok(true),
        "threads" => Ok(false),
        _ => Err(Error::invalid(format!("reads={value:?} is not threads or inline"))),
    }
}

fn readers(value: &str) -> Result<usize> {
    Some(value)
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=MAX_READERS).contains(n))
        .ok_or_else(|| Error::invalid(format!("readers={value:?} is not a number from 1 to {MAX_READERS}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_memory_and_parameters() {
        let url = FileUrl::parse(
            "db://data/app.db?a=1&namespace=t_1&b&readers=3&durability=relaxed",
            "db",
        )
        .unwrap();
        assert_eq!(url.location, Location::File(PathBuf::from("data/app.db")));
        assert_eq!((url.namespace.as_deref(), url.readers), (Some("t_1"), Some(3)));
        assert_eq!(url.durability, Some(Durability::Relaxed));
        assert_eq!(url.params, vec![("a".into(), "1".into()), ("b".into(), String::new())]);
        assert_eq!(
            FileUrl::parse("db:///abs/my%20file", "db").unwrap().location,
            Location::File(PathBuf::from("/abs/my file"))
        );
        assert_eq!(FileUrl::parse("db::memory:", "db").unwrap().location, Location::Memory);
        assert_eq!(FileUrl::parse("db://x?mode=ro", "db").unwrap().read_only, Some(true));
        assert_eq!(FileUrl::parse("db://x?mode=rw", "db").unwrap().read_only, Some(false));
        assert_eq!(
            FileUrl::parse("db://x?reads=inline", "db").unwrap().inline_reads,
            Some(true)
        );
        assert_eq!(
            FileUrl::parse("db://:memory:?x=1", "db").unwrap().location,
            Location::Memory
        );
        assert_eq!(
            FileUrl::parse("db://x?namespace=%61b", "db")
                .unwrap()
                .namespace
                .as_deref(),
            Some("ab")
        );
    }

    #[test]
    fn refuses_bad_urls_without_echoing_them() {
        for bad in [
            "other://secret@x",
            "db://",
            "db:x",
            "dbx://y",
            "db://x?namespace=Bad",
            "db://x?namespace=a&namespace=b",
            "db://x?readers=0",
            "db://x?readers=20000",
            "db://x?readers=+5",
            "db://x?durability=sometimes",
            "db://x?mode=wo",
            "db://x?reads=sometimes",
            "db://x?mode=ro&mode=ro",
            "db://%FF",
        ] {
            let error = FileUrl::parse(bad, "db").unwrap_err();
            assert!(!error.to_string().contains("secret"), "{error}");
        }
    }
}
