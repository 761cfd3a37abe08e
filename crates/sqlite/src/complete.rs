//! Recording handler outcomes: fenced step updates and their consequences for the task.

use crate::bookkeeping::{self, StepDone};
use crate::codec::{self, micros};
use crate::error::SqlResultExt;
use crate::{claim, history, queries, routes};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::{Map, Value, json};
use tasker_model::backoff::retry_eligible;
use tasker_model::{State, StepId, Timestamp};
use tasker_store::{
    ClaimRequest, ClaimedStep, Completion, CompletionResult, Handoff, OutcomeKind, Result,
    StepOutcome,
};

pub(crate) fn complete(
    conn: &mut Connection,
    outcomes: &[StepOutcome],
    now: Timestamp,
    handoff: Option<&Handoff>,
) -> Result<Completion> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .sql()?;
    let mut results = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        results.push(apply(&tx, outcome, now)?);
    }
    let claimed = match handoff {
        Some(handoff) if handoff.limit > 0 => hand_off(&tx, &results, handoff, now)?,
        _ => Vec::new(),
    };
    tx.commit().sql()?;
    Ok(Completion { results, claimed })
}

/// Claim up to the hand-off's limit of the steps these outcomes released. They all became
/// runnable now, so the oldest first is the lowest id first, as a claim would order them.
fn hand_off(
    tx: &Connection,
    results: &[CompletionResult],
    handoff: &Handoff,
    now: Timestamp,
) -> Result<Vec<ClaimedStep>> {
    let mut released: Vec<StepId> = results
        .iter()
        .flat_map(|r| r.released_steps.iter().copied())
        .collect();
    released.sort_unstable();
    // Steps the filter does not admit stay runnable for a claimer that has their route.
    let mut admitted = Vec::with_capacity(released.len());
    for id in released {
        if admitted.len() == handoff.limit as usize {
            break;
        }
        if routes::admits(tx, &handoff.filter, id)? {
            admitted.push(id);
        }
    }
    let request = ClaimRequest {
        owner: handoff.owner.clone(),
        limit: handoff.limit,
        now,
        lease_expires_at: handoff.lease_expires_at,
        only_task: None,
        filter: handoff.filter.clone(),
    };
    let pending = State::Pending.as_str().to_owned();
    let candidates = admitted
        .into_iter()
        .map(|id| (id, pending.clone()))
        .collect();
    claim::claim_candidates(tx, candidates, &request)
}

fn fenced_out(outcome: &StepOutcome) -> CompletionResult {
    CompletionResult {
        step_id: outcome.step_id,
        task_id: outcome.task_id,
        applied: false,
        released_steps: Vec::new(),
        task_finished: None,
    }
}

fn apply(conn: &Connection, outcome: &StepOutcome, now: Timestamp) -> Result<CompletionResult> {
    match &outcome.result {
        OutcomeKind::Succeeded { result } => succeed(conn, outcome, result, now),
        OutcomeKind::Failed {
            error,
            retry_at,
            backoff_request_seconds,
            metadata,
        } => fail(
            conn,
            outcome,
            error,
            *retry_at,
            *backoff_request_seconds,
            metadata,
            now,
        ),
    }
}

fn succeed(
    conn: &Connection,
    outcome: &StepOutcome,
    result: &Value,
    now: Timestamp,
) -> Result<CompletionResult> {
    let updated: Option<(i64, i32)> = conn
        .prepare_cached(queries::COMPLETE_STEP_SUCCESS)
        .sql()?
        .query_row(
            params![
                outcome.step_id,
                outcome.owner,
                outcome.attempt,
                micros(now),
                outcome.lease_expired,
                codec::to_text(result)
            ],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .sql()?;
    let Some((task_id, seq)) = updated else {
        return Ok(fenced_out(outcome));
    };
    history::step(
        conn,
        outcome.step_id,
        Some(State::InProgress),
        State::Complete,
        seq,
        &json!({"attempt": outcome.attempt}),
        now,
    )?;
    let StepDone {
        released,
        task_finished,
    } = bookkeeping::step_done(conn, outcome.step_id, task_id, false, now, None)?;
    Ok(CompletionResult {
        step_id: outcome.step_id,
        task_id,
        applied: true,
        released_steps: released,
        task_finished,
    })
}

fn fail(
    conn: &Connection,
    outcome: &StepOutcome,
    error: &str,
    retry_at: Option<Timestamp>,
    backoff_request_seconds: Option<i64>,
    metadata: &Value,
    now: Timestamp,
) -> Result<CompletionResult> {
    let budget: Option<(i64, bool, i32, i32)> = conn
        .prepare_cached(queries::STEP_RETRY_BUDGET)
        .sql()?
        .query_row([outcome.step_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .optional()
        .sql()?;
    let Some((step_task_id, retryable, attempts, max_attempts)) = budget else {
        return Ok(fenced_out(outcome));
    };
    // A retry time for a step with no retry left would make the stored readiness disagree
    // with the model's: such a failure is for good.
    let retry_at = retry_at.filter(|_| retry_eligible(attempts, max_attempts, retryable));
    let failed_for_good = retry_at.is_none();
    let task = bookkeeping::task_row(conn, step_task_id)?;
    let ready_at = retry_at.filter(|_| task.accepts_work()).map(micros);
    let last_error = outcome
        .last_error(now)
        .as_ref()
        .map(codec::last_error_text)
        .transpose()?;
    let updated: Option<(i64, i32)> = conn
        .prepare_cached(queries::COMPLETE_STEP_FAILURE)
        .sql()?
        .query_row(
            params![
                outcome.step_id,
                outcome.owner,
                outcome.attempt,
                micros(now),
                outcome.lease_expired,
                ready_at,
                backoff_request_seconds,
                failed_for_good,
                last_error
            ],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .sql()?;
    let Some((task_id, seq)) = updated else {
        return Ok(fenced_out(outcome));
    };
    let mut meta = Map::new();
    if let Value::Object(extra) = metadata {
        meta.extend(extra.clone());
    }
    meta.insert("attempt".into(), json!(outcome.attempt));
    meta.insert("error".into(), json!(error));
    meta.insert(
        "retry_at".into(),
        retry_at.map_or(Value::Null, |at| json!(at)),
    );
    history::step(
        conn,
        outcome.step_id,
        Some(State::InProgress),
        State::Error,
        seq,
        &Value::Object(meta),
        now,
    )?;
    let (state, steps_failed) = if failed_for_good {
        let (state, _remaining, failed): (String, i32, i32) = conn
            .prepare_cached(queries::TASK_STEP_FAILED)
            .sql()?
            .query_row(params![task_id, micros(now)], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .sql()?;
        bookkeeping::clear_ready(conn, task_id)?;
        (codec::state(&state)?, failed)
    } else {
        (task.state, task.steps_failed)
    };
    let task_finished = bookkeeping::block_if_idle(conn, task_id, state, steps_failed, now, None)?;
    Ok(CompletionResult {
        step_id: outcome.step_id,
        task_id,
        applied: true,
        released_steps: Vec::new(),
        task_finished,
    })
}
