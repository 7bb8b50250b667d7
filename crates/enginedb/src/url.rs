//! URLs of file-backed stores: `SCHEME://relative/path`, `SCHEME:///absolute/path` or
//! `SCHEME::memory:`, each with optional `?name=value&…` parameters.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::limits::validate_namespace;

/// A parsed file-store URL. The parameters every file store takes are parsed here; the rest
/// are left in `params` for the adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUrl {
    /// The database file; `None` for `:memory:`.
    pub path: Option<PathBuf>,
    /// `namespace=NAME`, validated.
    pub namespace: Option<String>,
    /// `readers=N`, a positive count.
    pub readers: Option<usize>,
    /// The other query parameters, in order.
    pub params: Vec<(String, String)>,
}

impl FileUrl {
    /// Parses `url`, which must use `scheme`.
    ///
    /// # Errors
    /// `InvalidInput` for another scheme or a URL naming no file.
    pub fn parse(url: &str, scheme: &str) -> Result<FileUrl> {
        let rest = url
            .strip_prefix(scheme)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or_else(|| Error::invalid(format!("{url:?} is not a {scheme}: URL")))?;
        let (target, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = match target {
            ":memory:" | "//:memory:" => None,
            _ => match target.strip_prefix("//") {
                Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
                _ => return Err(Error::invalid(format!("{url:?} names no database file"))),
            },
        };
        let mut url = FileUrl {
            path,
            namespace: None,
            readers: None,
            params: Vec::new(),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("namespace", ns) => {
                    validate_namespace(ns)?;
                    url.namespace = Some(ns.to_owned());
                }
                ("readers", n) => url.readers = Some(positive("readers", n)?),
                (name, value) => url.params.push((name.to_owned(), value.to_owned())),
            }
        }
        Ok(url)
    }

    /// The error for a parameter the adapter does not know.
    pub fn unknown(name: &str, value: &str) -> Error {
        Error::invalid(format!("unknown URL parameter {name}={value}"))
    }
}

fn positive(name: &str, value: &str) -> Result<usize> {
    value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::invalid(format!("{name}={value:?} is not a positive number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_memory_and_parameters() {
        let url = FileUrl::parse("db://data/app.db?a=1&namespace=t_1&b&readers=3", "db").unwrap();
        assert_eq!(url.path, Some(PathBuf::from("data/app.db")));
        assert_eq!((url.namespace.as_deref(), url.readers), (Some("t_1"), Some(3)));
        assert_eq!(url.params, vec![("a".into(), "1".into()), ("b".into(), String::new())]);
        assert_eq!(
            FileUrl::parse("db:///abs/x", "db").unwrap().path,
            Some(PathBuf::from("/abs/x"))
        );
        assert_eq!(FileUrl::parse("db::memory:", "db").unwrap().path, None);
        assert_eq!(FileUrl::parse("db://:memory:?x=1", "db").unwrap().path, None);
        for bad in [
            "other://x",
            "db://",
            "db:x",
            "dbx://y",
            "db://x?namespace=Bad",
            "db://x?readers=0",
        ] {
            assert!(FileUrl::parse(bad, "db").is_err(), "{bad}");
        }
    }
}
