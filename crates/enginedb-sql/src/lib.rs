#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod guard;
pub mod postgres;
pub mod row;
pub mod schema;
pub mod sqlite;

use std::borrow::Cow;

/// A value bound to a statement parameter, borrowed from the ops it was planned from where it
/// can be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param<'a> {
    /// SQL NULL.
    Null,
    /// A BLOB.
    Blob(Cow<'a, [u8]>),
    /// TEXT.
    Text(Cow<'a, str>),
    /// An integer. The SQL casts it with `CAST(? AS INTEGER)`, so a driver may bind it as an
    /// integer or as decimal text (D1 must: JavaScript numbers are not exact beyond 2^53).
    Int(i128),
}

impl Param<'_> {
    /// An integer.
    pub fn int(n: impl Into<i128>) -> Param<'static> {
        Param::Int(n.into())
    }
}

/// One statement: constant SQL text and its parameters (`?1`, `?2`, … in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The SQL; always this crate's own (a constant, or a text it built once).
    pub sql: &'static str,
    /// The bound parameters.
    pub params: Vec<Param<'a>>,
}

impl<'a> Statement<'a> {
    /// A statement with these parameters.
    pub fn new(sql: &'static str, params: Vec<Param<'a>>) -> Self {
        Statement { sql, params }
    }
}
