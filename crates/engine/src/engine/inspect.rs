//! Looking into a task: its steps, their readiness, why each is (not) running, its history.

use super::Engine;
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use tasker_model::backoff::retry_eligible;
use tasker_model::readiness::{task_accepts_work, task_execution_context};
use tasker_model::{
    State, StepId, StepReadiness, StepRecord, TaskExecutionContext, TaskId, TaskRecord, Timestamp,
    TransitionRecord,
};
use tasker_store::HandlerRoute;

/// Everything about one task ([`Engine::task_details`]): the task, its steps, their readiness and
/// why each is or is not running.
#[derive(Debug, Clone, Serialize)]
pub struct TaskDetails {
    /// The task, with its context.
    pub task: TaskRecord,
    /// Its steps, in template order.
    pub steps: Vec<StepRecord>,
    /// Each step's readiness now (dependencies met, retry due, attempts left).
    pub readiness: Vec<StepReadiness>,
    /// The task's progress summed over its steps.
    pub execution: TaskExecutionContext,
    /// One line per step, in step order, saying why it is or is not running.
    pub explanations: Vec<String>,
}

/// What a history entry is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistorySubject {
    /// The task itself.
    Task,
    /// One of its steps.
    Step {
        /// The step's id.
        id: StepId,
        /// The step's name in its template.
        name: String,
    },
}

/// One transition of a task or of one of its steps ([`Engine::task_history`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// When it happened.
    pub at: Timestamp,
    /// The task or the step.
    pub subject: HistorySubject,
    /// The state before; `None` for the first transition.
    pub from: Option<State>,
    /// The state after.
    pub to: State,
    /// The order of transitions of one task or step.
    pub sort_key: i32,
    /// What the transition recorded: for a failure its `error` and `failure` kind, the backoff
    /// chosen, the attempt, the actor of an operator action.
    pub metadata: Value,
}

impl Engine {
    /// The task, its steps with their readiness, and one line per step (in step order) saying why
    /// it is or is not running (`waiting for its retry at ...`, `failed permanently after 2
    /// attempts`); [`Error::TaskNotFound`] when there is none.
    pub async fn task_details(&self, id: TaskId) -> Result<TaskDetails> {
        let task = self.task(id).await?;
        let now = self.now();
        let steps = self.store().steps_of_task(id).await?;
        let readiness = self.store().step_readiness(&[id], now).await?;
        let execution = match self.store().task_execution_context(&[id], now).await?.pop() {
            Some(execution) => execution,
            None => task_execution_context(id, &readiness),
        };
        let unserved = self.unserved_routes(&task, &steps, now).await?;
        let explanations = explain_steps(&task, &steps, now, &unserved);
        Ok(TaskDetails {
            task,
            steps,
            readiness,
            execution,
            explanations,
        })
    }

    /// The routes of the task's ready steps that no orchestrator or worker advertised recently:
    /// one read for the whole task, and none when no step is ready.
    async fn unserved_routes(
        &self,
        task: &TaskRecord,
        steps: &[StepRecord],
        now: Timestamp,
    ) -> Result<Vec<HandlerRoute>> {
        let mut wanted: Vec<HandlerRoute> = ready_steps(task, steps, now)
            .filter(|step| !step.handler.is_empty())
            .map(route)
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let since = crate::orchestrator::advertise::live_since(now);
        let served = self.store().advertised_routes(&wanted, since).await?;
        wanted.retain(|r| !served.contains(r));
        Ok(wanted)
    }

    /// Task and step transitions merged in time order.
    pub async fn task_history(&self, id: TaskId) -> Result<Vec<HistoryEntry>> {
        if self.store().task(id).await?.is_none() {
            return Err(Error::TaskNotFound(id));
        }
        let task = self.store().task_transitions(id).await?;
        let steps = self.store().step_transitions_of_task(id).await?;
        Ok(merge_history(task, steps))
    }
}

/// At equal times, a task's start comes before the step that started it and its end after the
/// step that ended it, so the merged history reads as cause and effect.
fn merge_history(task: Vec<TransitionRecord>, steps: Vec<TransitionRecord>) -> Vec<HistoryEntry> {
    let mut entries: Vec<(u8, usize, HistoryEntry)> = Vec::with_capacity(task.len() + steps.len());
    for (i, t) in task.into_iter().enumerate() {
        let rank = if matches!(t.to_state, State::Pending | State::InProgress) {
            0
        } else {
            2
        };
        entries.push((rank, i, entry(t, HistorySubject::Task)));
    }
    for (i, t) in steps.into_iter().enumerate() {
        let subject = HistorySubject::Step {
            id: t.owner_id,
            name: t.step_name.clone().unwrap_or_default(),
        };
        entries.push((1, i, entry(t, subject)));
    }
    entries.sort_by_key(|e| (e.2.at, e.0, e.1));
    entries.into_iter().map(|(_, _, e)| e).collect()
}

fn entry(t: TransitionRecord, subject: HistorySubject) -> HistoryEntry {
    HistoryEntry {
        at: t.created_at,
        subject,
        from: t.from_state,
        to: t.to_state,
        sort_key: t.sort_key,
        metadata: t.metadata,
    }
}

fn clock_time(at: Timestamp) -> String {
    at.format("%H:%M:%S").to_string()
}

fn failed_for_good(step: &StepRecord) -> bool {
    step.state == State::Error && !retry_eligible(step.attempts, step.max_attempts, step.retryable)
}

fn route(step: &StepRecord) -> HandlerRoute {
    HandlerRoute {
        queue: step.queue.clone(),
        handler: step.handler.clone(),
    }
}

/// The steps [`explain_steps`] calls ready: runnable now, if someone runs their handler.
fn ready_steps<'a>(
    task: &'a TaskRecord,
    steps: &'a [StepRecord],
    now: Timestamp,
) -> impl Iterator<Item = &'a StepRecord> {
    let by_name: HashMap<&str, &StepRecord> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let blocked = steps.iter().any(failed_for_good);
    let open = task.state != State::Cancelled && !blocked && task_accepts_work(task.state);
    steps.iter().filter(move |step| {
        open && match step.state {
            State::Error => !failed_for_good(step) && step.ready_at.is_none_or(|at| at <= now),
            State::Pending => step.parents.iter().all(|name| {
                by_name
                    .get(name.as_str())
                    .is_none_or(|parent| parent.state.satisfies_dependents())
            }),
            _ => false,
        }
    })
}

/// Why each step is or is not running, in step order. `unserved`: the routes (queue and
/// handler) that no orchestrator or worker advertised lately, so that a ready step of one
/// waits for someone to run it.
pub fn explain_steps(
    task: &TaskRecord,
    steps: &[StepRecord],
    now: Timestamp,
    unserved: &[HandlerRoute],
) -> Vec<String> {
    let by_name: HashMap<&str, &StepRecord> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let blocked = steps.iter().any(failed_for_good);
    steps
        .iter()
        .map(|step| {
            let line = explain(task, step, &by_name, blocked, now);
            if line.starts_with("ready") && unserved.contains(&route(step)) {
                format!("{line}, but {}", nobody_runs(step))
            } else {
                line
            }
        })
        .collect()
}

/// `no worker has handler "charge_card"`, with ` on queue "payments"` for a queue step.
fn nobody_runs(step: &StepRecord) -> String {
    match &step.queue {
        Some(queue) => format!(
            "no worker has handler {:?} on queue {queue:?}",
            step.handler
        ),
        None => format!("no worker has handler {:?}", step.handler),
    }
}

/// `: card declined`, the step's last error as a suffix of its explanation; empty when the
/// record has none (a failure recorded before databases kept it). Only the first line of the
/// text, so that an explanation stays one line.
fn reason(step: &StepRecord) -> String {
    last_error_line(step).map_or_else(String::new, |text| format!(": {text}"))
}

fn last_error_line(step: &StepRecord) -> Option<&str> {
    let failure = step.last_error.as_ref()?;
    Some(failure.message.lines().next().unwrap_or_default().trim())
}

fn explain(
    task: &TaskRecord,
    step: &StepRecord,
    by_name: &HashMap<&str, &StepRecord>,
    blocked: bool,
    now: Timestamp,
) -> String {
    let plural = |n: i32| if n == 1 { "" } else { "s" };
    match step.state {
        State::Complete => "complete".to_owned(),
        State::ResolvedManually => "resolved manually".to_owned(),
        State::Cancelled => "cancelled".to_owned(),
        State::InProgress => {
            let mut line = format!(
                "running (attempt {} of {}",
                step.attempts, step.max_attempts
            );
            if let Some(until) = step.lease_expires_at {
                line.push_str(&format!(", lease until {}", clock_time(until)));
            }
            if let Some(owner) = &step.lease_owner {
                line.push_str(&format!(" by {owner}"));
            }
            line.push(')');
            line
        }
        State::Error if failed_for_good(step) => format!(
            "failed permanently after {} attempt{}{}",
            step.attempts,
            plural(step.attempts),
            reason(step)
        ),
        _ if task.state == State::Cancelled => "not started: task cancelled".to_owned(),
        _ if blocked => "blocked: another step of the task failed".to_owned(),
        _ if !task_accepts_work(task.state) => format!("not started: task is {}", task.state),
        State::Error => match step.ready_at {
            Some(at) if at > now => format!(
                "retrying at {} (attempt {} of {} failed{})",
                clock_time(at),
                step.attempts,
                step.max_attempts,
                reason(step)
            ),
            _ => {
                let retry = format!("retry {} of {}", step.attempts + 1, step.max_attempts);
                match last_error_line(step) {
                    Some(text) => format!("ready ({retry}; last error: {text})"),
                    None => format!("ready ({retry})"),
                }
            }
        },
        State::Pending => {
            let waiting: Vec<String> = step
                .parents
                .iter()
                .filter_map(|name| {
                    let parent = by_name.get(name.as_str())?;
                    if parent.state.satisfies_dependents() {
                        return None;
                    }
                    Some(match (parent.state, parent.ready_at) {
                        (State::Error, Some(at)) => {
                            format!("{name} (error, retry at {})", clock_time(at))
                        }
                        (State::Pending, _) => name.clone(),
                        (state, _) => format!("{name} ({state})"),
                    })
                })
                .collect();
            if waiting.is_empty() {
                "ready".to_owned()
            } else {
                format!("waiting for {}", waiting.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;
    use tasker_model::StepFailure;

    fn at(secs: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 1, 1, 12, 0, secs)
            .single()
            .unwrap()
    }

    fn task(state: State) -> TaskRecord {
        TaskRecord {
            id: 1,
            template_id: 1,
            namespace: "ns".into(),
            name: "t".into(),
            version: "1.0.0".into(),
            state,
            context: json!({}),
            identity_hash: None,
            idempotency_key: None,
            traceparent: None,
            steps_total: 3,
            steps_remaining: 3,
            steps_failed: 0,
            created_at: at(0),
            updated_at: at(0),
            completed_at: None,
        }
    }

    fn step(id: StepId, name: &str, state: State, parents: &[&str]) -> StepRecord {
        StepRecord {
            id,
            task_id: 1,
            name: name.into(),
            handler: "noop".into(),
            queue: None,
            state,
            attempts: 0,
            max_attempts: 3,
            retryable: true,
            retry_limit: 3,
            total_parents: parents.len() as i32,
            unsatisfied_parents: 0,
            ready_at: None,
            last_attempted_at: None,
            last_failure_at: None,
            last_error: None,
            backoff_request_seconds: None,
            inputs: None,
            results: None,
            lease_owner: None,
            lease_expires_at: None,
            parents: parents.iter().map(|p| p.to_string()).collect(),
            created_at: at(0),
            updated_at: at(0),
        }
    }

    fn failure(message: &str, kind: &str, attempt: i32) -> StepFailure {
        StepFailure {
            message: message.into(),
            kind: kind.into(),
            attempt,
            at: at(0),
        }
    }

    #[test]
    fn explains_waiting_retrying_running_and_ready() {
        let mut validate = step(1, "validate", State::Error, &[]);
        validate.attempts = 1;
        validate.ready_at = Some(at(3));
        validate.last_error = Some(failure("connection reset\n  at line 3", "handler", 1));
        let mut charge = step(2, "charge", State::InProgress, &[]);
        charge.attempts = 2;
        charge.lease_expires_at = Some(at(30));
        charge.lease_owner = Some("w1".into());
        let ship = step(3, "ship", State::Pending, &["validate", "charge"]);
        let root = step(4, "root", State::Pending, &[]);
        let lines = explain_steps(
            &task(State::InProgress),
            &[validate, charge, ship, root],
            at(1),
            &[],
        );
        assert_eq!(
            lines,
            vec![
                "retrying at 12:00:03 (attempt 1 of 3 failed: connection reset)",
                "running (attempt 2 of 3, lease until 12:00:30 by w1)",
                "waiting for validate (error, retry at 12:00:03), charge (in_progress)",
                "ready",
            ]
        );
    }

    #[test]
    fn a_permanent_failure_blocks_the_rest() {
        let mut pay = step(1, "pay", State::Error, &[]);
        pay.attempts = 2;
        pay.max_attempts = 2;
        pay.last_error = Some(failure("card declined", "permanent", 2));
        let ship = step(2, "ship", State::Pending, &["pay"]);
        let done = step(3, "audit", State::ResolvedManually, &[]);
        let lines = explain_steps(&task(State::Error), &[pay, ship, done], at(1), &[]);
        assert_eq!(
            lines,
            vec![
                "failed permanently after 2 attempts: card declined",
                "blocked: another step of the task failed",
                "resolved manually",
            ]
        );
    }

    #[test]
    fn a_ready_step_nobody_runs_names_its_handler_and_queue() {
        let mut charge = step(1, "charge", State::Pending, &[]);
        charge.handler = "charge_card".into();
        charge.queue = Some("payments".into());
        let mut audit = step(2, "audit", State::Error, &[]);
        audit.handler = "audit".into();
        audit.attempts = 1;
        audit.ready_at = Some(at(0));
        audit.last_error = Some(failure("timed out after 500 ms", "timeout", 1));
        let mut ship = step(3, "ship", State::Pending, &["charge"]);
        ship.handler = "audit".into();
        let running = task(State::InProgress);
        let steps = [charge, audit, ship];
        let ready: Vec<&str> = ready_steps(&running, &steps, at(1))
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(ready, vec!["charge", "audit"]);
        let unserved = [route(&steps[0]), route(&steps[1])];
        assert_eq!(
            explain_steps(&running, &steps, at(1), &unserved),
            vec![
                r#"ready, but no worker has handler "charge_card" on queue "payments""#,
                r#"ready (retry 2 of 3; last error: timed out after 500 ms), but no worker has handler "audit""#,
                "waiting for charge",
            ]
        );
        // Served routes, or a task that accepts no work, say nothing of workers.
        assert_eq!(explain_steps(&running, &steps, at(1), &[])[0], "ready");
        let cancelled = task(State::Cancelled);
        assert_eq!(ready_steps(&cancelled, &steps, at(1)).count(), 0);
    }

    #[test]
    fn history_reads_as_cause_and_effect_at_equal_times() {
        let t = |owner_id, name: Option<&str>, from, to, sort_key, secs| TransitionRecord {
            id: 0,
            owner_id,
            step_name: name.map(str::to_owned),
            from_state: from,
            to_state: to,
            metadata: json!({}),
            sort_key,
            most_recent: false,
            created_at: at(secs),
        };
        let task = vec![
            t(1, None, None, State::Pending, 1, 0),
            t(1, None, Some(State::Pending), State::InProgress, 2, 1),
            t(1, None, Some(State::InProgress), State::Complete, 3, 2),
        ];
        let steps = vec![
            t(7, Some("a"), None, State::Pending, 1, 0),
            t(7, Some("a"), Some(State::Pending), State::InProgress, 2, 1),
            t(7, Some("a"), Some(State::InProgress), State::Complete, 3, 2),
        ];
        let order: Vec<(bool, State)> = merge_history(task, steps)
            .iter()
            .map(|e| (e.subject == HistorySubject::Task, e.to))
            .collect();
        assert_eq!(
            order,
            vec![
                (true, State::Pending),
                (false, State::Pending),
                (true, State::InProgress),
                (false, State::InProgress),
                (false, State::Complete),
                (true, State::Complete),
            ]
        );
    }
}
