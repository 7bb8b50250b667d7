//! Interactive transactions: a session that holds the writer thread from `BEGIN IMMEDIATE` to
//! `COMMIT`/`ROLLBACK`, fed commands by a [`SqliteTx`]. Writes queued meanwhile wait behind it
//! and never join it.

use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use enginedb::limits::{validate_key, validate_keys, validate_unit};
use enginedb::{EngineTx, Entry, Error, Key, ListOptions, ListPlan, Page, Result, Selector, Version, Write};
use futures::channel::oneshot;
use rusqlite::Connection;

use crate::exec::{self, Counter, StatementFault, map_err};
use crate::worker::Worker;

/// What a transaction's session knows while it runs.
struct Session {
    namespace: Arc<str>,
    fault: Arc<StatementFault>,
    /// The version this transaction writes, drawn at its first write.
    version: Option<Version>,
    statements: Counter,
}

/// Whether the session goes on after a command.
enum Flow {
    Continue,
    Done,
}

type Command = Box<dyn FnOnce(&mut Connection, &mut Session) -> Flow + Send>;

/// An open transaction. Dropping it (or leaving it idle past the configured timeout) rolls it
/// back and frees the writer.
pub(crate) struct SqliteTx {
    commands: Sender<Command>,
}

/// Starts a session on the writer.
pub(crate) async fn begin(
    writer: &Worker,
    namespace: Arc<str>,
    fault: Arc<StatementFault>,
    idle: Duration,
) -> Result<SqliteTx> {
    let (reply, answer) = oneshot::channel();
    let session = Session {
        namespace,
        fault,
        version: None,
        statements: Counter::default(),
    };
    writer.send(Box::new(move |connection| {
        run_session(connection, session, idle, reply)
    }))?;
    let commands = answer.await.map_err(|_| Error::Closed)??;
    Ok(SqliteTx { commands })
}

fn run_session(
    connection: &mut Connection,
    mut session: Session,
    idle: Duration,
    reply: oneshot::Sender<Result<Sender<Command>>>,
) {
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        let _ = reply.send(Err(map_err(error)));
        return;
    }
    let (commands, inbox) = mpsc::channel::<Command>();
    if reply.send(Ok(commands)).is_err() {
        roll_back(connection);
        return;
    }
    loop {
        match inbox.recv_timeout(idle) {
            Ok(command) => {
                if let Flow::Done = command(connection, &mut session) {
                    return;
                }
            }
            // The handle was dropped, or the transaction sat idle too long.
            Err(_) => {
                roll_back(connection);
                return;
            }
        }
    }
}

fn roll_back(connection: &Connection) {
    // If ROLLBACK itself fails the connection has no transaction left to undo.
    let _ = connection.execute_batch("ROLLBACK");
}

impl SqliteTx {
    async fn call<T, F>(&self, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &mut Session) -> (Result<T>, Flow) + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let command: Command = Box::new(move |connection, session| {
            let (result, flow) = command(connection, session);
            let _ = reply.send(result);
            flow
        });
        self.commands.send(command).map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

#[async_trait::async_trait]
impl EngineTx for SqliteTx {
    async fn get(&mut self, key: &Key) -> Result<Option<Entry>> {
        validate_key(key)?;
        let key = key.clone();
        self.call(move |c, s| (exec::get(c, &s.namespace, &key, s.version), Flow::Continue))
            .await
    }

    async fn get_many(&mut self, keys: &[Key]) -> Result<Vec<Option<Entry>>> {
        validate_keys(keys)?;
        let keys = keys.to_vec();
        self.call(move |c, s| (exec::get_many(c, &s.namespace, &keys, s.version), Flow::Continue))
            .await
    }

    async fn list(&mut self, selector: &Selector, options: &ListOptions) -> Result<Page> {
        let plan = ListPlan::new(selector, options)?;
        self.call(move |c, s| (exec::list(c, &s.namespace, &plan, s.version), Flow::Continue))
            .await
    }

    /// A failure rolls the whole transaction back at once (no half-applied call survives).
    async fn apply(&mut self, ops: &[Write]) -> Result<()> {
        validate_unit(ops)?;
        let ops = ops.to_vec();
        self.call(move |c, s| {
            let applied = (|| {
                if s.version.is_none() {
                    s.version = Some(exec::bump_version(c, &s.fault, &mut s.statements)?);
                }
                exec::apply(c, &s.namespace, &ops, &s.fault, &mut s.statements)
            })();
            match applied {
                Ok(()) => (Ok(()), Flow::Continue),
                Err(error) => {
                    roll_back(c);
                    (Err(error), Flow::Done)
                }
            }
        })
        .await
    }

    async fn commit(self: Box<Self>) -> Result<Version> {
        self.call(|c, s| {
            let committed = (|| {
                let version = match s.version {
                    Some(version) => version,
                    None => exec::bump_version(c, &s.fault, &mut s.statements)?,
                };
                c.execute_batch("COMMIT").map_err(map_err)?;
                Ok(version)
            })();
            if committed.is_err() {
                roll_back(c);
            }
            (committed, Flow::Done)
        })
        .await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.call(|c, _| (c.execute_batch("ROLLBACK").map_err(map_err), Flow::Done))
            .await
    }
}
