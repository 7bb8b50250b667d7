#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod guard;
pub mod postgres;
pub mod row;
pub mod schema;
pub mod sqlite;

/// A value bound to a statement parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// SQL NULL.
    Null,
    /// A BLOB.
    Blob(Vec<u8>),
    /// TEXT. Integers travel as text too (see [`Param::int`]).
    Text(String),
}

impl Param {
    /// An integer, as decimal text: the SQL casts it back with `CAST(? AS INTEGER)`.
    pub fn int(n: impl Into<i128>) -> Param {
        Param::Text(n.into().to_string())
    }
}

/// One statement: constant SQL text and its parameters (`?1`, `?2`, … in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The SQL; always one of this crate's constants.
    pub sql: &'static str,
    /// The bound parameters.
    pub params: Vec<Param>,
}

impl Statement {
    /// A statement with these parameters.
    pub fn new(sql: &'static str, params: Vec<Param>) -> Self {
        Statement { sql, params }
    }
}
