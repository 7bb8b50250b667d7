//! How to connect: from code or from a `postgres://` URL.

use std::time::Duration;

use enginedb::port::validate_namespace;
use enginedb::{Error, Result};
use sqlx::postgres::PgConnectOptions;

/// Settings of [`crate::PgDb::open`]. Its `Debug` form hides the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// The server URL, as sqlx takes it (`postgres://user:pass@host:port/db?sslmode=…`).
    pub url: String,
    /// The namespace this handle works in (`None`: the default one).
    pub namespace: Option<String>,
    /// Pooled connections.
    pub max_connections: u32,
    /// How long to wait for a free pooled connection before `Busy`.
    pub acquire_timeout: Duration,
    /// How long a server may take to answer a connection attempt before it counts as
    /// unreachable (`Unavailable`): a host that drops packets answers nothing at all.
    pub connect_timeout: Duration,
    /// The server ends a transaction left idle this long (`idle_in_transaction_session_timeout`),
    /// so an abandoned one cannot hold its locks forever.
    pub transaction_idle_timeout: Duration,
    /// How often a read that lost a serialization race is re-run before `Conflict` (units and
    /// transactions are re-run by the core, under the `Db`'s retry policy).
    pub read_retries: u32,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `scheme://user:password@host/db?…`: the user information and the query go.
        let shown = match self.url.split_once("://") {
            Some((scheme, rest)) => {
                let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
                let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
                format!("{scheme}://…@{host}/{path}")
            }
            None => "(not a URL)".to_owned(),
        };
        f.debug_struct("PgConfig")
            .field("url", &shown)
            .field("namespace", &self.namespace)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("transaction_idle_timeout", &self.transaction_idle_timeout)
            .field("read_retries", &self.read_retries)
            .finish()
    }
}

impl PgConfig {
    /// Defaults for the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            namespace: None,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            transaction_idle_timeout: Duration::from_secs(60),
            read_retries: 20,
        }
    }

    /// Parses a `postgres://` (or `postgresql://`) URL. A `namespace=NAME` query parameter (the
    /// one every adapter takes; `enginedb_namespace=NAME` is read too) selects the namespace,
    /// percent-decoded, and is not passed on to the server; the others are the server's.
    ///
    /// # Errors
    /// `InvalidInput` for another scheme, or a bad or repeated namespace. The message never
    /// quotes the URL (it may hold a password).
    pub fn from_url(url: &str) -> Result<Self> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::invalid("not a postgres:// URL"));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut namespace = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let decoded = url::form_urlencoded::parse(pair.as_bytes()).next();
            match decoded {
                Some((name, ns)) if name == "namespace" || name == "enginedb_namespace" => {
                    if namespace.is_some() {
                        return Err(Error::invalid("the URL gives the namespace twice"));
                    }
                    validate_namespace(&ns)?;
                    namespace = Some(ns.into_owned());
                }
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok(PgConfig {
            namespace,
            ..PgConfig::new(url)
        })
    }

    /// The connect options: the URL's, with every transaction SERIALIZABLE by default, the
    /// idle-transaction timeout set, and sequential scans off. Every query enginedb sends is a
    /// primary-key lookup or range; under SERIALIZABLE a sequential scan (which the planner
    /// picks for small tables) locks the whole table for conflict detection and makes
    /// unrelated transactions fail each other.
    pub(crate) fn connect_options(&self) -> Result<PgConnectOptions> {
        let options: PgConnectOptions = self
            .url
            .parse()
            .map_err(|e| Error::invalid(format!("bad postgres URL: {e}")))?;
        let idle = format!("{}ms", self.transaction_idle_timeout.as_millis());
        Ok(options.application_name("enginedb").options([
            ("default_transaction_isolation", "serializable"),
            ("idle_in_transaction_session_timeout", idle.as_str()),
            ("enable_seqscan", "off"),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_namespace_out_of_the_url() {
        let c = PgConfig::from_url("postgres://u@h:5/db?sslmode=disable&enginedb_namespace=t1").unwrap();
        assert_eq!(
            (c.url.as_str(), c.namespace.as_deref()),
            ("postgres://u@h:5/db?sslmode=disable", Some("t1"))
        );
        assert_eq!(
            PgConfig::from_url("postgresql://h/db").unwrap().url,
            "postgresql://h/db"
        );
        assert!(PgConfig::from_url("mysql://h/db").is_err());
        assert!(PgConfig::from_url("postgres://h/db?enginedb_namespace=Bad-Name").is_err());
        let c = PgConfig::from_url("postgres://u:secret@h/db?namespace=t%5F2&sslmode=require").unwrap();
        assert_eq!(
            (c.url.as_str(), c.namespace.as_deref()),
            ("postgres://u:secret@h/db?sslmode=require", Some("t_2"))
        );
        let twice = PgConfig::from_url("postgres://u:secret@h/db?namespace=a&enginedb_namespace=b").unwrap_err();
        assert!(!twice.to_string().contains("secret"), "{twice}");
    }
}
