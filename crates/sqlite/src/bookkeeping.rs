//! The task-level consequences of step changes, shared by completion, leases and operator
//! actions: task state changes with their history, releasing children, blocking and
//! unblocking. Everything here runs inside the caller's transaction.

use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::{history, queries};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use tasker_model::readiness::task_accepts_work;
use tasker_model::{State, StepId, TaskId, Timestamp};
use tasker_store::{Error, Result, with_actor};

pub(crate) struct TaskRow {
    pub state: State,
    pub template_id: i64,
    pub steps_failed: i32,
}

impl TaskRow {
    /// New steps may start: the task runs and nothing blocks it.
    pub fn accepts_work(&self) -> bool {
        task_accepts_work(self.state) && self.steps_failed == 0
    }
}

pub(crate) fn task_row(conn: &Connection, task_id: TaskId) -> Result<TaskRow> {
    let mut stmt = conn.prepare_cached(queries::TASK_ROW).sql()?;
    let mut rows = stmt.query([task_id]).sql()?;
    let row = rows.next().sql()?.ok_or_else(|| Error::NotFound {
        what: "task",
        id: task_id.to_string(),
    })?;
    Ok(TaskRow {
        state: codec::state_at(row, 0)?,
        template_id: row.get(1).sql()?,
        steps_failed: row.get(2).sql()?,
    })
}

/// Compare-and-set of the task state with its history row; `false` if the task was not in
/// `from`.
pub(crate) fn set_task_state(
    conn: &Connection,
    task_id: TaskId,
    from: State,
    to: State,
    metadata: &Value,
    now: Timestamp,
) -> Result<bool> {
    let change = StateChange {
        from,
        to,
        metadata,
        now,
    };
    compare_and_set(
        conn,
        queries::TASK_SET_STATE,
        history::task,
        task_id,
        change,
    )
}

/// Operator-driven compare-and-set of a step state with its history row.
pub(crate) fn set_step_state(
    conn: &Connection,
    step_id: StepId,
    from: State,
    to: State,
    metadata: &Value,
    now: Timestamp,
) -> Result<bool> {
    let change = StateChange {
        from,
        to,
        metadata,
        now,
    };
    compare_and_set(
        conn,
        queries::STEP_SET_STATE,
        history::step,
        step_id,
        change,
    )
}

/// `history::task` or `history::step`.
type HistoryWriter =
    fn(&Connection, i64, Option<State>, State, i32, &Value, Timestamp) -> Result<()>;

struct StateChange<'a> {
    from: State,
    to: State,
    metadata: &'a Value,
    now: Timestamp,
}

/// The shared shape of both compare-and-sets: `set_state` moves the row only if it is in
/// `from` and returns its new transition sequence number, which the history row then uses.
fn compare_and_set(
    conn: &Connection,
    set_state: &str,
    write_history: HistoryWriter,
    id: i64,
    change: StateChange<'_>,
) -> Result<bool> {
    let StateChange {
        from,
        to,
        metadata,
        now,
    } = change;
    let seq: Option<i32> = conn
        .prepare_cached(set_state)
        .sql()?
        .query_row(
            params![id, from.as_str(), to.as_str(), micros(now)],
            |row| row.get(0),
        )
        .optional()
        .sql()?;
    match seq {
        Some(seq) => {
            write_history(conn, id, Some(from), to, seq, metadata, now)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

pub(crate) fn any_running(conn: &Connection, task_id: TaskId) -> Result<bool> {
    conn.prepare_cached(queries::TASK_ANY_RUNNING)
        .sql()?
        .query_row([task_id], |row| row.get(0))
        .sql()
}

/// A blocked task whose last running step just stopped goes to `error`; `actor` is who
/// stopped it (an operator action), for the history.
pub(crate) fn block_if_idle(
    conn: &Connection,
    task_id: TaskId,
    state: State,
    steps_failed: i32,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<Option<State>> {
    if steps_failed == 0 || state != State::InProgress || any_running(conn, task_id)? {
        return Ok(None);
    }
    let moved = set_task_state(
        conn,
        task_id,
        State::InProgress,
        State::Error,
        &with_actor(json!({"steps_failed": steps_failed}), actor),
        now,
    )?;
    Ok(moved.then_some(State::Error))
}

pub(crate) fn clear_ready(conn: &Connection, task_id: TaskId) -> Result<()> {
    conn.prepare_cached(queries::TASK_CLEAR_READY)
        .sql()?
        .execute([task_id])
        .sql()?;
    Ok(())
}

pub(crate) fn restore_ready(conn: &Connection, task_id: TaskId, now: Timestamp) -> Result<()> {
    conn.prepare_cached(queries::TASK_RESTORE_READY)
        .sql()?
        .execute(params![task_id, micros(now)])
        .sql()?;
    Ok(())
}

/// What a finished step (complete or resolved) did to its task.
pub(crate) struct StepDone {
    pub released: Vec<StepId>,
    pub task_finished: Option<State>,
}

/// A step of the task became `complete` or `resolved_manually`: count it, release its
/// children, unblock or finish the task. `was_failed_for_good`: the step was one of the
/// task's blocking failures (a resolve). `actor`: who resolved it, for the history.
pub(crate) fn step_done(
    conn: &Connection,
    step_id: StepId,
    task_id: TaskId,
    was_failed_for_good: bool,
    now: Timestamp,
    actor: Option<&Value>,
) -> Result<StepDone> {
    let at = micros(now);
    let (state, remaining, failed): (String, i32, i32) = conn
        .prepare_cached(queries::TASK_STEP_FINISHED)
        .sql()?
        .query_row(
            params![task_id, i32::from(was_failed_for_good), at],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .sql()?;
    let mut task_state = codec::state(&state)?;

    let mut children = Vec::new();
    {
        let mut stmt = conn.prepare_cached(queries::RELEASE_CHILDREN).sql()?;
        let mut rows = stmt.query(params![step_id, at]).sql()?;
        while let Some(row) = rows.next().sql()? {
            let id: StepId = row.get(0).sql()?;
            let child_state = codec::state_at(row, 1)?;
            let unsatisfied: i32 = row.get(2).sql()?;
            if unsatisfied == 0 && child_state == State::Pending {
                children.push(id);
            }
        }
    }

    let mut task_finished = None;
    if remaining == 0 {
        if tasker_model::state::task_transition_allowed(task_state, State::Complete)
            && set_task_state(
                conn,
                task_id,
                task_state,
                State::Complete,
                &with_actor(json!({}), actor),
                now,
            )?
        {
            task_finished = Some(State::Complete);
        }
        return Ok(StepDone {
            released: Vec::new(),
            task_finished,
        });
    }

    let mut released = Vec::new();
    if was_failed_for_good && failed == 0 {
        // The last blocking failure is gone: the task takes work again.
        if task_state == State::Error
            && set_task_state(
                conn,
                task_id,
                State::Error,
                State::InProgress,
                &with_actor(json!({"unblocked_by_step": step_id}), actor),
                now,
            )?
        {
            task_state = State::InProgress;
        }
        if task_accepts_work(task_state) {
            restore_ready(conn, task_id, now)?;
            released = children;
        }
    } else if task_accepts_work(task_state) && failed == 0 {
        let mut mark = conn.prepare_cached(queries::STEP_MARK_READY).sql()?;
        for id in children {
            if mark.execute(params![id, at]).sql()? == 1 {
                released.push(id);
            }
        }
    } else if failed > 0 {
        task_finished = block_if_idle(conn, task_id, task_state, failed, now, actor)?;
    }
    Ok(StepDone {
        released,
        task_finished,
    })
}
