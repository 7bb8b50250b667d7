//! sqlx on PostgreSQL: a `bytea` key/value table, a pool as large as the adapter's, each write
//! or unit one autocommit statement (a unit: one `INSERT … SELECT FROM UNNEST`, atomic by
//! itself).

use enginedb::{Error, Result};
use enginedb_postgres::sqlx::postgres::{PgPool, PgPoolOptions};
use enginedb_postgres::sqlx::{self, Row};

use crate::bench::store::{Batch, Item, Store};

const TABLE: &str = "CREATE TABLE IF NOT EXISTS enginedb_bench_raw (key bytea PRIMARY KEY, value bytea NOT NULL)";
const GET: &str = "SELECT value FROM enginedb_bench_raw WHERE key = $1";
const GET_MANY: &str =
    "SELECT kv.value FROM UNNEST($1::bytea[]) AS wanted (key) JOIN enginedb_bench_raw AS kv USING (key)";
const LIST: &str = "SELECT key, value FROM enginedb_bench_raw WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3";
const PUT: &str = "INSERT INTO enginedb_bench_raw (key, value) VALUES ($1, $2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const UNIT: &str = "INSERT INTO enginedb_bench_raw (key, value) SELECT * FROM UNNEST($1::bytea[], $2::bytea[]) \
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value";

pub(crate) struct RawPostgres(PgPool);

fn fail(error: sqlx::Error) -> Error {
    Error::backend("raw postgres", error)
}

impl RawPostgres {
    /// Connects with `max_connections` and starts from an empty table.
    pub(crate) async fn open(url: &str, max_connections: u32) -> Result<RawPostgres> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(url)
            .await
            .map_err(fail)?;
        sqlx::query(TABLE).execute(&pool).await.map_err(fail)?;
        sqlx::query("TRUNCATE enginedb_bench_raw")
            .execute(&pool)
            .await
            .map_err(fail)?;
        Ok(RawPostgres(pool))
    }
}

#[async_trait::async_trait]
impl Store for RawPostgres {
    async fn get(&self, item: &Item) -> Result<bool> {
        let row = sqlx::query(GET)
            .bind(&item.bytes)
            .fetch_optional(&self.0)
            .await
            .map_err(fail)?;
        Ok(row.is_some())
    }

    async fn get_many(&self, batch: &Batch) -> Result<usize> {
        let items = &batch.items;
        let keys: Vec<&[u8]> = items.iter().map(|item| item.bytes.as_slice()).collect();
        let rows = sqlx::query(GET_MANY)
            .bind(keys)
            .fetch_all(&self.0)
            .await
            .map_err(fail)?;
        Ok(rows.len())
    }

    async fn list(&self, start: &Item, end: &Item, limit: usize) -> Result<usize> {
        let limit = i64::try_from(limit).map_err(|e| Error::backend("raw postgres", e))?;
        let rows = sqlx::query(LIST)
            .bind(&start.bytes)
            .bind(&end.bytes)
            .bind(limit)
            .fetch_all(&self.0)
            .await
            .map_err(fail)?;
        for row in &rows {
            let _value: &[u8] = row.try_get(1).map_err(fail)?;
        }
        Ok(rows.len())
    }

    async fn put(&self, item: &Item, value: &[u8]) -> Result<()> {
        sqlx::query(PUT)
            .bind(&item.bytes)
            .bind(value)
            .execute(&self.0)
            .await
            .map(drop)
            .map_err(fail)
    }

    async fn unit(&self, batch: &Batch) -> Result<()> {
        let (items, value) = (&batch.items, batch.value.as_slice());
        let keys: Vec<&[u8]> = items.iter().map(|item| item.bytes.as_slice()).collect();
        let values = vec![value; items.len()];
        sqlx::query(UNIT)
            .bind(keys)
            .bind(values)
            .execute(&self.0)
            .await
            .map(drop)
            .map_err(fail)
    }

    async fn clean_up(&self) -> Result<()> {
        sqlx::query("DROP TABLE enginedb_bench_raw")
            .execute(&self.0)
            .await
            .map(drop)
            .map_err(fail)
    }
}
