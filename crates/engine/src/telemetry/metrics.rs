//! The engine's metrics, recorded through the `metrics` facade where things happen: task
//! creation, claims, handler runs, outcomes written, task ends, store errors.
//!
//! Names follow Prometheus conventions (`_total` for counters, `_seconds` for durations).
//! Label values are bounded: a namespace, a template name, a handler name, an outcome, a final
//! state or an error kind; never an id. Without an installed recorder every call is a no-op.

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use std::sync::Arc;
use std::time::Duration;
use tasker_model::{State, Timestamp};

/// Tasks created (idempotent repeats not counted), by `namespace` and `template`.
pub const TASKS_CREATED: &str = "tasker_tasks_created_total";
/// Tasks that reached `complete`, `error` or `cancelled`, by `namespace`, `template`, `state`.
pub const TASKS_FINISHED: &str = "tasker_tasks_finished_total";
/// Step attempts that ended, by `handler` and `outcome`.
pub const STEP_ATTEMPTS: &str = "tasker_step_attempts_total";
/// Retries scheduled (a failed attempt whose step will run again), by `handler`.
pub const STEP_RETRIES: &str = "tasker_step_retries_total";
/// How long handlers ran, by `handler`.
pub const STEP_DURATION: &str = "tasker_step_duration_seconds";
/// From the moment a step became runnable to its claim.
pub const STEP_WAIT: &str = "tasker_step_wait_seconds";
/// From a task's creation to its end, by `namespace` and `template`.
pub const TASK_DURATION: &str = "tasker_task_duration_seconds";
/// Steps runnable now, counted up to [`RUNNABLE_CAP`].
pub const STEPS_RUNNABLE: &str = "tasker_steps_runnable";
/// Claimed steps whose outcome is not written yet, in this process.
pub const STEPS_IN_FLIGHT: &str = "tasker_steps_in_flight";
/// Step leases this process holds.
pub const LEASES_HELD: &str = "tasker_leases_held";
/// Steps per claim of the claim loop that took any (hand-offs are not counted).
pub const CLAIM_BATCH_SIZE: &str = "tasker_claim_batch_size";
/// Outcomes per completion write.
pub const COMPLETION_BATCH_SIZE: &str = "tasker_completion_batch_size";
/// Store errors the orchestrator met, by `kind`.
pub const DATABASE_ERRORS: &str = "tasker_database_errors_total";

/// The runnable-steps gauge counts at most this many: the count is a bounded walk of the
/// ready index, so its cost does not grow with the backlog.
pub const RUNNABLE_CAP: u32 = 100_000;

/// How often each orchestrator refreshes the runnable-steps gauge.
pub const RUNNABLE_INTERVAL: Duration = Duration::from_secs(5);

/// Describes every metric above (unit and help text) to the installed recorder. Call it after
/// installing one; metrics recorded before or after are the same.
pub fn describe() {
    describe_counter!(
        TASKS_CREATED,
        Unit::Count,
        "Tasks created, by namespace and template (an idempotent repeat creates none)."
    );
    describe_counter!(
        TASKS_FINISHED,
        Unit::Count,
        "Tasks that reached complete, error or cancelled, by namespace, template and state (a task retried after an error counts again when it ends again)."
    );
    describe_counter!(
        STEP_ATTEMPTS,
        Unit::Count,
        "Step attempts that ended, by handler and outcome: success, retryable (will run again), permanent (failed for good), lease_expired (its process stopped renewing the lease; recorded by the rescuer), lease_lost (this process lost the lease; nothing was written)."
    );
    describe_counter!(
        STEP_RETRIES,
        Unit::Count,
        "Retries scheduled: failed attempts whose step will run again, by handler."
    );
    describe_histogram!(
        STEP_DURATION,
        Unit::Seconds,
        "How long step handlers ran, by handler."
    );
    describe_histogram!(
        STEP_WAIT,
        Unit::Seconds,
        "Wait of a step from the moment it became runnable to its claim."
    );
    describe_histogram!(
        TASK_DURATION,
        Unit::Seconds,
        "Time from a task's creation to its end (complete, error or cancelled), by namespace and template."
    );
    describe_gauge!(
        STEPS_RUNNABLE,
        Unit::Count,
        "Steps runnable now and not yet claimed, in the whole database, counted up to 100000; refreshed every 5 s by each orchestrator."
    );
    describe_gauge!(
        STEPS_IN_FLIGHT,
        Unit::Count,
        "Steps claimed by this process whose outcome is not written yet."
    );
    describe_gauge!(
        LEASES_HELD,
        Unit::Count,
        "Step leases this process holds and renews."
    );
    describe_histogram!(
        CLAIM_BATCH_SIZE,
        Unit::Count,
        "Steps per claim of the claim loop, for claims that took at least one (steps a completion hands off are claimed in its own write)."
    );
    describe_histogram!(
        COMPLETION_BATCH_SIZE,
        Unit::Count,
        "Outcomes written per completion."
    );
    describe_counter!(
        DATABASE_ERRORS,
        Unit::Count,
        "Store errors met by the orchestrator, by kind: unavailable, conflict, database, corrupt, not_found, invalid_transition, template_mismatch, migrations_pending, other."
    );
}

/// The labels of a template's tasks, shared by every count of them (no copy per task).
#[derive(Debug, Clone)]
pub(crate) struct TemplateLabels {
    pub(crate) namespace: Arc<str>,
    pub(crate) template: Arc<str>,
}

impl TemplateLabels {
    pub(crate) fn new(namespace: &str, template: &str) -> Self {
        TemplateLabels {
            namespace: namespace.into(),
            template: template.into(),
        }
    }

    /// For a task whose template cannot be read.
    pub(crate) fn unknown() -> Self {
        TemplateLabels::new(UNKNOWN, UNKNOWN)
    }
}

/// The label value for a template or handler that cannot be known.
pub(crate) const UNKNOWN: &str = "unknown";

/// How a step attempt ended, as counted in [`STEP_ATTEMPTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptOutcome {
    Success,
    /// Failed; the step will run again.
    Retryable,
    /// Failed for good.
    Permanent,
    /// Its lease expired and the rescuer recorded the attempt as failed.
    LeaseExpired,
    /// This process lost the lease: the handler was stopped, or its outcome was fenced out.
    LeaseLost,
}

impl AttemptOutcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Success => "success",
            AttemptOutcome::Retryable => "retryable",
            AttemptOutcome::Permanent => "permanent",
            AttemptOutcome::LeaseExpired => "lease_expired",
            AttemptOutcome::LeaseLost => "lease_lost",
        }
    }
}

pub(crate) fn tasks_created(labels: &TemplateLabels, count: u64) {
    counter!(TASKS_CREATED, "namespace" => labels.namespace.clone(), "template" => labels.template.clone())
        .increment(count);
}

/// A task reached `state`; `created_at` (when known) gives its end-to-end time.
pub(crate) fn task_finished(
    labels: &TemplateLabels,
    state: State,
    created_at: Option<Timestamp>,
    now: Timestamp,
) {
    counter!(
        TASKS_FINISHED,
        "namespace" => labels.namespace.clone(),
        "template" => labels.template.clone(),
        "state" => state.as_str()
    )
    .increment(1);
    if let Some(created_at) = created_at {
        histogram!(TASK_DURATION, "namespace" => labels.namespace.clone(), "template" => labels.template.clone())
            .record(seconds_between(created_at, now));
    }
}

pub(crate) fn step_attempt(handler: &Arc<str>, outcome: AttemptOutcome) {
    counter!(STEP_ATTEMPTS, "handler" => handler.clone(), "outcome" => outcome.label())
        .increment(1);
    if outcome == AttemptOutcome::Retryable {
        counter!(STEP_RETRIES, "handler" => handler.clone()).increment(1);
    }
}

/// A retry scheduled by the rescuer for an expired lease (counted apart from the attempt,
/// whose outcome is `lease_expired`).
pub(crate) fn step_retry(handler: &Arc<str>) {
    counter!(STEP_RETRIES, "handler" => handler.clone()).increment(1);
}

pub(crate) fn step_duration(handler: &Arc<str>, ran: Duration) {
    histogram!(STEP_DURATION, "handler" => handler.clone()).record(ran.as_secs_f64());
}

/// A step runnable since `ready_at` was claimed at `claimed_at`.
pub(crate) fn step_wait(ready_at: Timestamp, claimed_at: Timestamp) {
    histogram!(STEP_WAIT).record(seconds_between(ready_at, claimed_at));
}

pub(crate) fn claim_batch(steps: usize) {
    histogram!(CLAIM_BATCH_SIZE).record(steps as f64);
}

pub(crate) fn completion_batch(outcomes: usize) {
    histogram!(COMPLETION_BATCH_SIZE).record(outcomes as f64);
}

pub(crate) fn steps_runnable(count: u64) {
    gauge!(STEPS_RUNNABLE).set(count as f64);
}

/// `delta` steps entered (positive) or left (negative) flight in this process.
pub(crate) fn in_flight(delta: f64) {
    gauge!(STEPS_IN_FLIGHT).increment(delta);
}

/// `delta` leases taken (positive) or let go (negative) by this process.
pub(crate) fn leases_held(delta: f64) {
    gauge!(LEASES_HELD).increment(delta);
}

/// A store error the orchestrator handled (retried, logged, or gave up on).
pub(crate) fn database_error(error: &tasker_store::Error) {
    counter!(DATABASE_ERRORS, "kind" => error_kind(error)).increment(1);
}

/// [`database_error`] for an engine error that came from the store; others are not counted.
pub(crate) fn engine_error(error: &crate::Error) {
    if let crate::Error::Store(e) = error {
        database_error(e);
    }
}

fn error_kind(error: &tasker_store::Error) -> &'static str {
    use tasker_store::Error;
    match error {
        Error::Unavailable(_) => "unavailable",
        Error::Conflict(_) => "conflict",
        Error::Database(_) => "database",
        Error::Corrupt(_) => "corrupt",
        Error::NotFound { .. } => "not_found",
        Error::InvalidTransition { .. } => "invalid_transition",
        Error::TemplateMismatch(_) => "template_mismatch",
        Error::MigrationsPending(_) => "migrations_pending",
        _ => "other",
    }
}

/// Seconds from `from` to `to`; zero when clocks make it negative.
fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    let micros = (to - from).num_microseconds().unwrap_or(i64::MAX);
    micros.max(0) as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_are_seconds_and_never_negative() {
        let t0 = chrono::Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let later = t0 + chrono::Duration::milliseconds(1_500);
        assert_eq!(seconds_between(t0, later), 1.5);
        assert_eq!(seconds_between(later, t0), 0.0);
    }

    #[test]
    fn every_store_error_has_a_bounded_kind() {
        use tasker_store::Error;
        let cases = [
            (Error::Unavailable("x".into()), "unavailable"),
            (Error::Conflict("x".into()), "conflict"),
            (Error::Database("x".into()), "database"),
            (Error::Corrupt("x".into()), "corrupt"),
            (
                Error::NotFound {
                    what: "task",
                    id: "1".into(),
                },
                "not_found",
            ),
            (Error::TemplateMismatch("t".into()), "template_mismatch"),
            (
                Error::MigrationsPending(vec!["V1".into()]),
                "migrations_pending",
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(error_kind(&error), kind);
        }
    }
}
