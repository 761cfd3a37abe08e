//! Recording outcomes: a batch of fenced step updates, per-task aggregation, and the release
//! of children, in one transaction of a few statements.

use crate::PostgresStore;
use crate::claim::{BoundFilter, claimed_steps};
use crate::error::DbResult;
use crate::rows::{self, get};
use crate::sql;
use crate::transitions::History;
use deadpool_postgres::Transaction;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use tasker_model::{State, Timestamp};
use tasker_store::{Completion, CompletionResult, Handoff, OutcomeKind, Result, StepOutcome};
use tokio_postgres::Statement;

/// The transition metadata of an outcome: the attempt, and for failures the error, the retry
/// time and the caller's extra facts.
fn metadata(outcome: &StepOutcome) -> Value {
    match &outcome.result {
        OutcomeKind::Succeeded { .. } => json!({ "attempt": outcome.attempt }),
        OutcomeKind::Failed {
            error,
            retry_at,
            metadata,
            ..
        } => {
            let mut m = serde_json::Map::new();
            m.insert("attempt".into(), json!(outcome.attempt));
            m.insert("error".into(), json!(error));
            m.insert("retry_at".into(), json!(retry_at));
            match metadata {
                Value::Object(extra) => m.extend(extra.clone()),
                Value::Null => {}
                other => {
                    m.insert("metadata".into(), other.clone());
                }
            }
            Value::Object(m)
        }
    }
}

fn permanent(outcome: &StepOutcome) -> bool {
    matches!(outcome.result, OutcomeKind::Failed { retry_at: None, .. })
}

fn succeeded(outcome: &StepOutcome) -> bool {
    matches!(outcome.result, OutcomeKind::Succeeded { .. })
}

pub(crate) async fn complete_steps(
    store: &PostgresStore,
    outcomes: &[StepOutcome],
    now: Timestamp,
    handoff: Option<&Handoff>,
) -> Result<Completion> {
    let mut results: Vec<CompletionResult> = outcomes
        .iter()
        .map(|o| CompletionResult {
            step_id: o.step_id,
            task_id: o.task_id,
            applied: false,
            released_steps: Vec::new(),
            task_finished: None,
        })
        .collect();
    if outcomes.is_empty() {
        return Ok(Completion {
            results,
            claimed: Vec::new(),
        });
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await.db()?;
    // A failure for good blocks its task: that needs every running step of the task in view,
    // so its tasks are locked exclusively, which claims of them skip or are waited for
    // (lock_tasks_exclusive.sql). Otherwise claims of the same tasks go on beside this.
    let blocking_any = outcomes.iter().any(permanent);
    // Prepared up front: a statement prepared inside a pipelined group would be sent after
    // the others and run out of order.
    let statements = Statements::prepare(&tx, blocking_any).await?;
    let distinct_tasks: Vec<i64> = outcomes
        .iter()
        .map(|o| o.task_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    // One statement cannot apply two outcomes to one row, so the n-th outcome of each step
    // goes in the n-th wave; a later one is fenced out by the state an earlier one left.
    // Steps are updated in id order, as lease renewals do, so that the two never deadlock.
    let mut by_step: Vec<usize> = (0..outcomes.len()).collect();
    by_step.sort_by_key(|&i| outcomes[i].step_id);
    let mut occurrence: HashMap<i64, usize> = HashMap::new();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for i in by_step {
        let outcome = &outcomes[i];
        let n = occurrence.entry(outcome.step_id).or_default();
        if waves.len() <= *n {
            waves.push(Vec::new());
        }
        waves[*n].push(i);
        *n += 1;
    }
    // The lock and the waves need no answer from each other: they travel together (pipelined)
    // and the server runs them in the order sent.
    let planning = async { tx.batch_execute(sql::plan_mode(outcomes.len())).await.db() };
    let locking = async { tx.query(&statements.lock, &[&distinct_tasks]).await.db() };
    let applying = futures::future::try_join_all(
        waves
            .iter()
            .map(|wave| apply(&tx, &statements.apply, outcomes, wave, now)),
    );
    let ((), _, applied) = futures::try_join!(planning, locking, applying)?;
    let applied_seq: HashMap<usize, i32> = applied.into_iter().flatten().collect();
    if applied_seq.is_empty() {
        tx.commit().await.db()?;
        return Ok(Completion {
            results,
            claimed: Vec::new(),
        });
    }

    let mut history = History::default();
    let mut agg_tasks = Vec::new();
    let mut agg_ok = Vec::new();
    let mut agg_permanent = Vec::new();
    let mut blocked = BTreeSet::new();
    let mut done_steps = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        let Some(&seq) = applied_seq.get(&i) else {
            continue;
        };
        results[i].applied = true;
        let to = if succeeded(outcome) {
            done_steps.push(outcome.step_id);
            State::Complete
        } else {
            State::Error
        };
        history.step(
            outcome.step_id,
            State::InProgress,
            to,
            metadata(outcome),
            seq,
        );
        agg_tasks.push(outcome.task_id);
        agg_ok.push(succeeded(outcome));
        agg_permanent.push(permanent(outcome));
        if permanent(outcome) {
            blocked.insert(outcome.task_id);
        }
    }

    // Folding (which records the tasks' state changes), blocking, releasing, the steps'
    // history, the hand-off's claim and the wake-up hint go out together. All but the hint
    // (whose place does not matter) are prepared up front, so the server runs them in this
    // order: the release sees the failure counts the fold just wrote, and the hand-off sees
    // what the release made runnable. Without a hand-off, a success may release children, so
    // it hints other processes (a hint that finds nothing costs them one claim); with one,
    // the hint waits to see whether the hand-off left any.
    let folding = fold_into_tasks(
        &tx,
        &statements.fold,
        &agg_tasks,
        &agg_ok,
        &agg_permanent,
        now,
    );
    let blocked: Vec<i64> = blocked.into_iter().collect();
    let blocking = async {
        if blocked.is_empty() {
            return Ok(());
        }
        tx.execute(&statements.block, &[&blocked, &now])
            .await
            .db()?;
        Ok(())
    };
    let releasing = release_with(&tx, &statements.release, &done_steps, now);
    // A hand-off with no room claims nothing: treated as none.
    let handoff = handoff.filter(|h| h.limit > 0);
    let handing = handoff.is_some();
    let hinting = async {
        if done_steps.is_empty() || handing {
            return Ok(());
        }
        crate::notify::hint(&tx, store.schema.as_deref()).await
    };
    // The hand-off claims what the release made runnable: sent after it, so it sees it.
    let handing_off = async {
        match handoff {
            Some(handoff) if !done_steps.is_empty() => {
                let filter = BoundFilter::new(&handoff.filter);
                let rows = tx
                    .query(
                        &statements.claim_released,
                        &[
                            &now,
                            &i64::from(handoff.limit),
                            &handoff.owner,
                            &handoff.lease_expires_at,
                            &done_steps,
                            &filter.queue,
                            &filter.handlers,
                        ],
                    )
                    .await
                    .db()?;
                claimed_steps(&rows, handoff.lease_expires_at)
            }
            _ => Ok(Vec::new()),
        }
    };
    let (mut finished, (), mut released, (), claimed, ()) = futures::try_join!(
        folding,
        blocking,
        releasing,
        history.write(&tx, now),
        handing_off,
        hinting
    )?;
    let released_count: usize = released.values().map(Vec::len).sum();
    if handing && released_count > claimed.len() {
        crate::notify::hint(&tx, store.schema.as_deref()).await?;
    }
    tx.commit().await.db()?;

    for result in results.iter_mut().filter(|r| r.applied) {
        if let Some(mut children) = released.remove(&result.step_id) {
            children.sort_unstable();
            result.released_steps = children;
        }
    }
    // The last applied outcome of a task is the one that finished it.
    for result in results.iter_mut().rev().filter(|r| r.applied) {
        if let Some(state) = finished.remove(&result.task_id) {
            result.task_finished = Some(state);
        }
    }
    Ok(Completion { results, claimed })
}

/// Apply the outcomes at `batch` (distinct steps) in one fenced statement; returns the new
/// transition sequence of each applied one, by its index.
async fn apply(
    tx: &Transaction<'_>,
    statement: &Statement,
    outcomes: &[StepOutcome],
    batch: &[usize],
    now: Timestamp,
) -> Result<Vec<(usize, i32)>> {
    let pick = |f: &dyn Fn(&StepOutcome) -> bool| -> Vec<bool> {
        batch.iter().map(|&i| f(&outcomes[i])).collect()
    };
    let step_ids: Vec<i64> = batch.iter().map(|&i| outcomes[i].step_id).collect();
    let task_ids: Vec<i64> = batch.iter().map(|&i| outcomes[i].task_id).collect();
    let owners: Vec<&str> = batch.iter().map(|&i| outcomes[i].owner.as_str()).collect();
    let attempts: Vec<i32> = batch.iter().map(|&i| outcomes[i].attempt).collect();
    let lease_expired = pick(&|o| o.lease_expired);
    let ok = pick(&succeeded);
    let mut values: Vec<Option<&Value>> = Vec::with_capacity(batch.len());
    let mut retry_at: Vec<Option<Timestamp>> = Vec::with_capacity(batch.len());
    let mut backoff: Vec<Option<i64>> = Vec::with_capacity(batch.len());
    let mut last_error: Vec<Option<Value>> = Vec::with_capacity(batch.len());
    for &i in batch {
        last_error.push(
            outcomes[i]
                .last_error(now)
                .map(|failure| {
                    serde_json::to_value(failure)
                        .map_err(|e| tasker_store::Error::Corrupt(format!("last_error: {e}")))
                })
                .transpose()?,
        );
        match &outcomes[i].result {
            OutcomeKind::Succeeded { result } => {
                values.push(Some(result));
                retry_at.push(None);
                backoff.push(None);
            }
            OutcomeKind::Failed {
                retry_at: at,
                backoff_request_seconds,
                ..
            } => {
                values.push(None);
                retry_at.push(*at);
                backoff.push(*backoff_request_seconds);
            }
        }
    }
    let rows = tx
        .query(
            statement,
            &[
                &now,
                &step_ids,
                &task_ids,
                &owners,
                &attempts,
                &lease_expired,
                &ok,
                &values,
                &retry_at,
                &backoff,
                &last_error,
            ],
        )
        .await
        .db()?;
    let by_step: HashMap<i64, usize> = batch.iter().map(|&i| (outcomes[i].step_id, i)).collect();
    let mut applied = Vec::with_capacity(rows.len());
    for row in &rows {
        let step_id: i64 = get(row, "id")?;
        if let Some(&i) = by_step.get(&step_id) {
            applied.push((i, get(row, "transition_seq")?));
        }
    }
    Ok(applied)
}

/// The statements of a completion, prepared on this connection.
struct Statements {
    lock: Statement,
    apply: Statement,
    fold: Statement,
    block: Statement,
    release: Statement,
    claim_released: Statement,
}

impl Statements {
    async fn prepare(tx: &Transaction<'_>, exclusive: bool) -> Result<Statements> {
        // The history insert is prepared here too (and taken from the cache where it is sent),
        // so that it goes out before the hand-off's claim: a child's start comes after its
        // parent's end in the history.
        let (lock, apply, fold, block, release, claim_released, _history) = futures::try_join!(
            tx.prepare_cached(if exclusive {
                sql::LOCK_TASKS_EXCLUSIVE
            } else {
                sql::LOCK_TASKS
            }),
            tx.prepare_cached(sql::COMPLETE_STEPS),
            tx.prepare_cached(sql::COMPLETE_STEPS_TASKS),
            tx.prepare_cached(sql::BLOCK_TASKS),
            tx.prepare_cached(sql::RELEASE_CHILDREN),
            tx.prepare_cached(sql::CLAIM_RELEASED),
            tx.prepare_cached(sql::INSERT_TRANSITIONS),
        )
        .db()?;
        Ok(Statements {
            lock,
            apply,
            fold,
            block,
            release,
            claim_released,
        })
    }
}

/// Fold applied outcomes (one entry per outcome: its task, success, failed for good) into their
/// tasks' counters and states, recording the state changes; returns the tasks this finished,
/// with their new state.
async fn fold_into_tasks(
    tx: &Transaction<'_>,
    statement: &Statement,
    task_ids: &[i64],
    ok: &[bool],
    permanent: &[bool],
    now: Timestamp,
) -> Result<HashMap<i64, State>> {
    let rows = tx
        .query(statement, &[&now, &task_ids, &ok, &permanent])
        .await
        .db()?;
    let mut finished = HashMap::new();
    for row in &rows {
        let old = rows::state_col(row, "old_state")?;
        let new = rows::state_col(row, "new_state")?;
        if old != new && matches!(new, State::Complete | State::Error) {
            finished.insert(get(row, "id")?, new);
        }
    }
    Ok(finished)
}

/// Count the finished `parents` off their children; returns, by parent, the children that
/// became runnable (each child is reported by one of its parents).
pub(crate) async fn release_children(
    tx: &Transaction<'_>,
    parents: &[i64],
    now: Timestamp,
) -> Result<HashMap<i64, Vec<i64>>> {
    let statement = tx.prepare_cached(sql::RELEASE_CHILDREN).await.db()?;
    release_with(tx, &statement, parents, now).await
}

async fn release_with(
    tx: &Transaction<'_>,
    statement: &Statement,
    parents: &[i64],
    now: Timestamp,
) -> Result<HashMap<i64, Vec<i64>>> {
    let mut released: HashMap<i64, Vec<i64>> = HashMap::new();
    if parents.is_empty() {
        return Ok(released);
    }
    for row in tx.query(statement, &[&parents, &now]).await.db()? {
        if get::<bool>(&row, "released")? {
            released
                .entry(get(&row, "released_by")?)
                .or_default()
                .push(get(&row, "id")?);
        }
    }
    Ok(released)
}
