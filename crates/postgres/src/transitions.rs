//! History rows written alongside state changes.
//!
//! Each state-changing statement bumps the row's `transition_seq` and returns it; the new
//! transition takes that value as its sort key, so no history is read, and the row is current
//! because its sort key is the owner's sequence: no earlier row is touched.

use crate::error::DbResult;
use crate::sql;
use deadpool_postgres::Transaction;
use serde_json::Value;
use tasker_model::{State, Timestamp};
use tasker_store::{Result, with_actor};
use tokio_postgres::types::ToSql;

#[derive(Default)]
struct Rows {
    owner_ids: Vec<i64>,
    from: Vec<Option<&'static str>>,
    to: Vec<&'static str>,
    metadata: Vec<Value>,
    sort_keys: Vec<i32>,
}

impl Rows {
    fn push(&mut self, owner_id: i64, from: State, to: State, metadata: Value, sort_key: i32) {
        self.owner_ids.push(owner_id);
        self.from.push(Some(from.as_str()));
        self.to.push(to.as_str());
        self.metadata.push(metadata);
        self.sort_keys.push(sort_key);
    }
}

/// The transitions one operation writes, for steps and tasks.
#[derive(Default)]
pub(crate) struct History {
    steps: Rows,
    tasks: Rows,
    /// Who asked for the operation (an operator action's actor), recorded in every row.
    actor: Option<Value>,
}

impl History {
    /// The history of an operator action: every row it writes names `actor`, if given.
    pub(crate) fn by(actor: Option<&Value>) -> History {
        History {
            actor: actor.cloned(),
            ..History::default()
        }
    }

    pub(crate) fn step(&mut self, id: i64, from: State, to: State, metadata: Value, seq: i32) {
        let metadata = with_actor(metadata, self.actor.as_ref());
        self.steps.push(id, from, to, metadata, seq);
    }

    pub(crate) fn task(&mut self, id: i64, from: State, to: State, metadata: Value, seq: i32) {
        let metadata = with_actor(metadata, self.actor.as_ref());
        self.tasks.push(id, from, to, metadata, seq);
    }

    pub(crate) async fn write(self, tx: &Transaction<'_>, now: Timestamp) -> Result<()> {
        if self.steps.owner_ids.is_empty() && self.tasks.owner_ids.is_empty() {
            return Ok(());
        }
        let insert = tx.prepare_cached(sql::INSERT_TRANSITIONS).await.db()?;
        let (s, t) = (&self.steps, &self.tasks);
        let insert_params: [&(dyn ToSql + Sync); 11] = [
            &s.owner_ids,
            &s.from,
            &s.to,
            &s.metadata,
            &s.sort_keys,
            &t.owner_ids,
            &t.from,
            &t.to,
            &t.metadata,
            &t.sort_keys,
            &now,
        ];
        tx.execute(&insert, &insert_params).await.db()?;
        Ok(())
    }
}
