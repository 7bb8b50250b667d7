#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;
use std::time::Duration;

use enginedb::port::{AdapterInfo, BatchCapability, EncodedWrite, EngineDb, ListOptions, ListPlan, validate_namespace};
use enginedb::{Db, Entry, Error, Key, Page, Result, Selector, Version, Write};
use enginedb_sql::{Param, Statement, guard, row, schema, sqlite};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, D1PreparedStatement, D1Result};

thread_local! {
    /// The D1 bindings whose schema this isolate has already checked and created, held weakly
    /// (a binding is the same JavaScript object on every request an isolate serves).
    static SCHEMA_READY: js_sys::WeakSet = js_sys::WeakSet::new();
}

/// An `EngineDb` on a D1 binding: atomic batches, no interactive transactions (D1 has none),
/// so `transact` runs optimistically over batches. Clones share the binding.
#[derive(Clone)]
pub struct D1Db {
    db: Rc<D1Database>,
    namespace: Rc<str>,
}

/// A stored value, as the SQLite dialect selects it (numbers as text: exact past 2^53).
#[derive(Deserialize)]
struct Stored {
    v: Option<Vec<u8>>,
    n: Option<String>,
    ver: String,
}

/// A listed entry.
#[derive(Deserialize)]
struct Listed {
    k: Vec<u8>,
    v: Option<Vec<u8>>,
    n: Option<String>,
    ver: String,
}

/// One text cell named `v`.
#[derive(Deserialize)]
struct Text {
    v: Option<String>,
}

/// One count named `n`.
#[derive(Deserialize)]
struct Count {
    n: u32,
}

/// The one mapping of D1's errors: a guard's abort to `CheckFailed`/`SumFailed`, anything else
/// to `Backend`. D1's messages are read through `cause()` (its `Display` throws in worker 0.8.7).
fn map_err(error: worker::Error) -> Error {
    let message = match &error {
        worker::Error::D1(d1) => d1.cause(),
        other => format!("{other:?}"),
    };
    guard::parse(&message).unwrap_or_else(|| Error::backend("d1", message))
}

fn rows<T: for<'de> Deserialize<'de>>(result: &D1Result) -> Result<Vec<T>> {
    result.results().map_err(map_err)
}

impl D1Db {
    /// Wraps the binding. The first open of a binding in an isolate checks the schema version
    /// and creates whatever is missing (every statement of
    /// [`SQLITE_CREATE`](enginedb_sql::schema::SQLITE_CREATE) is idempotent: it changes
    /// nothing in a database a D1 migration already set up); later opens of that binding in
    /// the same isolate run no query.
    ///
    /// # Errors
    /// `IncompatibleSchema` for a database written by a newer enginedb; `Backend` for D1's
    /// errors. A failed first open is retried by the next one.
    pub async fn open(db: D1Database) -> Result<D1Db> {
        let store = D1Db {
            db: Rc::new(db),
            namespace: "".into(),
        };
        let binding: &js_sys::Object = (*store.db).as_ref().unchecked_ref();
        if !SCHEMA_READY.with(|ready| ready.has(binding)) {
            store.create_schema().await?;
            SCHEMA_READY.with(|ready| ready.add(binding));
        }
        Ok(store)
    }

    /// Wraps the binding as a [`Db`]; see [`D1Db::open`].
    ///
    /// # Errors
    /// As [`D1Db::open`].
    pub async fn open_db(db: D1Database) -> Result<Db> {
        D1Db::open(db).await.map(Db::from)
    }

    /// A handle on namespace `name` of the same database: same binding and versions, separate
    /// keys.
    ///
    /// # Errors
    /// `InvalidInput` unless `name` is a strict identifier.
    pub fn namespace(&self, name: &str) -> Result<D1Db> {
        validate_namespace(name)?;
        Ok(D1Db {
            db: self.db.clone(),
            namespace: name.into(),
        })
    }

    /// Binds a statement: blobs as `Uint8Array`, text (integers included) as strings. The
    /// SQLite dialect binds at most 98 parameters (a multi-row upsert), within D1's 100.
    fn prepare(&self, statement: &Statement<'_>) -> Result<D1PreparedStatement> {
        let params: Vec<JsValue> = statement
            .params
            .iter()
            .map(|param| match param {
                Param::Null => JsValue::NULL,
                Param::Blob(bytes) => js_sys::Uint8Array::from(bytes.as_ref()).into(),
                Param::Text(text) => JsValue::from_str(text),
                // As text: JavaScript numbers are not exact beyond 2^53 (the SQL casts it back).
                Param::Int(n) => JsValue::from_str(&n.to_string()),
            })
            .collect();
        self.db.prepare(statement.sql).bind(&params).map_err(map_err)
    }

    async fn query<T: for<'de> Deserialize<'de>>(&self, statement: &Statement<'_>) -> Result<Vec<T>> {
        rows(&self.prepare(statement)?.all().await.map_err(map_err)?)
    }

    /// Refuses a newer schema before touching anything, then creates what is missing in one
    /// batch.
    async fn create_schema(&self) -> Result<()> {
        let exists: Vec<Count> = self
            .query(&Statement::new(schema::SQLITE_META_EXISTS, Vec::new()))
            .await?;
        if exists.first().is_some_and(|c| c.n > 0) {
            let recorded: Vec<Text> = self
                .query(&Statement::new(schema::SQLITE_SCHEMA_VERSION, Vec::new()))
                .await?;
            schema::check_version(recorded.first().and_then(|t| t.v.as_deref()), schema::SCHEMA_VERSION)?;
        }
        let create = schema::SQLITE_CREATE
            .iter()
            .map(|sql| self.prepare(&Statement::new(sql, Vec::new())))
            .collect::<Result<Vec<_>>>()?;
        self.db.batch(create).await.map_err(map_err).map(drop)
    }

    async fn commit_unit(&self, ops: &[Write]) -> Result<Version> {
        let mut statements = vec![self.prepare(&Statement::new(sqlite::BUMP_VERSION, Vec::new()))?];
        for statement in sqlite::plan_unit(&self.namespace, &EncodedWrite::unit(ops)?, None) {
            statements.push(self.prepare(&statement)?);
        }
        let results = self.db.batch(statements).await.map_err(map_err)?;
        let drawn: Vec<Text> = match results.first() {
            Some(result) => rows(result)?,
            None => Vec::new(),
        };
        let text = drawn
            .into_iter()
            .next()
            .and_then(|t| t.v)
            .ok_or_else(|| Error::Corrupt {
                message: "D1 returned no version for the unit".into(),
            })?;
        text.parse().map(Version).map_err(|_| Error::Corrupt {
            message: format!("drawn version {text:?} is not a number"),
        })
    }
}

fn entry(key: Key, stored: Stored) -> Result<Entry> {
    let (value, version) = row::decode(stored.v, stored.n.as_deref(), &stored.ver)?;
    Ok(Entry { key, value, version })
}

#[async_trait::async_trait(?Send)]
impl EngineDb for D1Db {
    fn info(&self) -> AdapterInfo {
        AdapterInfo::new("d1")
    }

    async fn get(&self, key: &Key) -> Result<Option<Entry>> {
        let found: Vec<Stored> = self.query(&sqlite::get(&self.namespace, key.encode())).await?;
        found
            .into_iter()
            .next()
            .map(|stored| entry(key.clone(), stored))
            .transpose()
    }

    /// One batch of point reads: one round trip, one snapshot.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let statements = keys
            .iter()
            .map(|k| self.prepare(&sqlite::get(&self.namespace, k.encode())))
            .collect::<Result<Vec<_>>>()?;
        let results = self.db.batch(statements).await.map_err(map_err)?;
        if results.len() != keys.len() {
            return Err(Error::Corrupt {
                message: format!("D1 answered {} of {} reads", results.len(), keys.len()),
            });
        }
        keys.iter()
            .zip(&results)
            .map(|(key, result)| {
                let found: Vec<Stored> = rows(result)?;
                found
                    .into_iter()
                    .next()
                    .map(|stored| entry(key.clone(), stored))
                    .transpose()
            })
            .collect()
    }

    async fn list(&self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        let listed: Vec<Listed> = self.query(&sqlite::list(&self.namespace, &plan)).await?;
        let mut decoded = Vec::with_capacity(listed.len());
        for row in listed {
            let (value, version) = row::decode(row.v, row.n.as_deref(), &row.ver)?;
            decoded.push((row.k, value, version));
        }
        plan.page(decoded)
    }

    async fn write(&self, op: &Write) -> Result<Version> {
        self.commit_unit(std::slice::from_ref(op)).await
    }

    async fn advance_version(&self, past: Version) -> Result<()> {
        let advance = Statement::new(sqlite::ADVANCE_VERSION, vec![Param::Int(past.0.into())]);
        self.db
            .batch(vec![self.prepare(&advance)?])
            .await
            .map_err(map_err)
            .map(drop)
    }

    fn batches(&self) -> Option<&dyn BatchCapability> {
        Some(self)
    }

    async fn pause(&self, duration: Duration) {
        worker::Delay::from(duration).await;
    }
}

#[async_trait::async_trait(?Send)]
impl BatchCapability for D1Db {
    /// One D1 batch: the version draw, then every statement of the unit; a failing guard
    /// aborts it whole.
    async fn apply_batch(&self, ops: &[Write]) -> Result<Version> {
        self.commit_unit(ops).await
    }
}
