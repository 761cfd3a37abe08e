//! The storage seam of Tasker (internal: it changes freely with the engine).
//!
//! One trait, [`Store`], that the SQLite and PostgreSQL backends implement, and the conformance
//! suite (feature `conformance`) that both run. The engine speaks only to this trait; dialect
//! differences stay inside each backend, behind [`Capabilities`].
//!
//! Every write that changes a state is a compare-and-set on the expected state, in one
//! transaction with its history row; a lost race is [`Error::Conflict`], never an overwrite.
//! Backends never read the clock: `now` is always a parameter.

#![warn(missing_docs)]

mod analytics;
mod bench;
mod error;
pub mod seeding;
mod tokens;
mod types;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use analytics::{
    AnalyticsStore, FinishedCount, FinishedQuery, FinishedTask, StepSample, StepTimes,
    bucket_start, check_bucket, sample_times,
};
pub use bench::{BareMode, BareQueueReport, BareQueueSpec, BareShape, BaselineReport, TableCounts};
pub use error::{Error, Result};
pub use tokens::{NewToken, TokenRecord, TokenStore};
pub use types::*;

use async_trait::async_trait;
use serde_json::Value;
use tasker_model::{
    State, StepId, StepReadiness, StepRecord, TaskExecutionContext, TaskId, TaskRecord, TemplateId,
    Timestamp, TransitionRecord,
};

/// The whole seam. Aggregates added for the service layer live in traits of their own
/// ([`TokenStore`], [`AnalyticsStore`]) that every backend implements too.
#[async_trait]
pub trait Store: TokenStore + AnalyticsStore + Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`, for logs and benchmark headers.
    fn backend_name(&self) -> &'static str;
    /// What this backend can do ([`Capabilities`]).
    fn capabilities(&self) -> Capabilities;
    /// Server version and the settings that matter for performance (bench headers).
    async fn describe(&self) -> Result<BackendInfo>;

    // ---- schema ----------------------------------------------------------------------------
    /// Apply pending migrations; returns the names applied.
    async fn migrate(&self) -> Result<Vec<String>>;
    /// Names of migrations not yet applied (empty when the schema is current).
    async fn pending_migrations(&self) -> Result<Vec<String>>;

    // ---- templates -------------------------------------------------------------------------
    /// Store a validated template. Registering the same namespace/name/version again with the
    /// same definition returns the existing id (`created: false`); with a different definition
    /// it is [`Error::TemplateMismatch`].
    async fn register_template(
        &self,
        template: &NewTemplate,
        now: Timestamp,
    ) -> Result<RegisteredTemplate>;
    /// The given version, or the highest semantic version when `version` is `None`.
    async fn find_template(
        &self,
        namespace: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<StoredTemplate>>;
    /// The template with this id; `None` when there is none.
    async fn template_by_id(&self, id: TemplateId) -> Result<Option<StoredTemplate>>;
    /// All templates, ordered by namespace, name, then version (semantic order).
    async fn list_templates(&self) -> Result<Vec<StoredTemplate>>;

    // ---- tasks -----------------------------------------------------------------------------
    /// Create tasks with their steps, edges and initial transitions, in one transaction.
    /// A task whose `identity_hash` already exists is not created again: its existing id comes
    /// back with `created: false`. Results are in the order of `tasks`.
    async fn create_tasks(&self, tasks: &[NewTask], now: Timestamp) -> Result<Vec<CreatedTask>>;
    /// The task with this id, with its context; `None` when there is none.
    async fn task(&self, id: TaskId) -> Result<Option<TaskRecord>>;
    /// Newest first. The rows carry no context (`context` is null): a list should not cost
    /// the size of every context in it; [`Store::task`] has it.
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRecord>>;
    /// Number of tasks in each state (states with none are left out).
    async fn count_tasks_by_state(&self) -> Result<Vec<(State, i64)>>;
    /// The steps of a task in template order.
    async fn steps_of_task(&self, task_id: TaskId) -> Result<Vec<StepRecord>>;
    /// The step with this id; `None` when there is none.
    async fn step(&self, id: StepId) -> Result<Option<StepRecord>>;
    /// The task's transitions, by sort key.
    async fn task_transitions(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>>;
    /// Every step transition of the task, in the order they were written.
    async fn step_transitions_of_task(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>>;
    /// The `most_recent` transition of a task (an index lookup).
    async fn current_task_transition(&self, task_id: TaskId) -> Result<Option<TransitionRecord>>;

    // ---- the orchestrator's hot path -------------------------------------------------------
    /// Claim up to `limit` runnable steps (`ready_at <= now`), oldest `ready_at` first: each
    /// moves to `in_progress` with `attempts + 1` under a lease for `owner`. Steps claimed by
    /// another process at the same time are skipped, never claimed twice. A task's first claim
    /// moves it `pending -> in_progress`.
    async fn claim_steps(&self, request: &ClaimRequest) -> Result<Vec<ClaimedStep>>;
    /// Record outcomes in one transaction. Each is fenced by owner, attempt and state, and by
    /// an unexpired lease (or, for `lease_expired` outcomes, by an expired one); a fenced-out
    /// outcome is not applied and comes back with `applied: false`. Results are in input order.
    async fn complete_steps(
        &self,
        outcomes: &[StepOutcome],
        now: Timestamp,
    ) -> Result<Vec<CompletionResult>> {
        Ok(self.complete_and_claim(outcomes, now, None).await?.results)
    }
    /// Record outcomes as [`Store::complete_steps`] does and, in the same transaction, claim
    /// for the hand-off up to its `limit` of the steps they released, oldest `ready_at` first
    /// (as [`Store::claim_steps`] would at `now`). Released steps beyond the limit stay
    /// runnable for any claimer.
    async fn complete_and_claim(
        &self,
        outcomes: &[StepOutcome],
        now: Timestamp,
        handoff: Option<&Handoff>,
    ) -> Result<Completion>;
    /// Extend to `expires_at` the leases that `owner` still holds, live, on the given steps and
    /// attempts: a step is renewed only while it is `in_progress` under `owner` and that
    /// attempt, and its lease has not expired (`lease_expires_at > now`). A lease that already
    /// expired is not renewed, even if nobody rescued it yet: it is lost. Returns the ids
    /// renewed, in no particular order.
    async fn renew_leases(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Vec<StepId>>;
    /// Running steps whose lease expired before `now`, oldest first.
    async fn expired_leases(&self, now: Timestamp, limit: u32) -> Result<Vec<ExpiredLease>>;
    /// Give back every lease `owner` holds (graceful shutdown): each step goes
    /// `in_progress -> pending`, the attempt is not counted (`attempts - 1`), and it is runnable
    /// at once. Returns how many.
    async fn release_leases(&self, owner: &str, now: Timestamp) -> Result<u64>;
    /// Give back specific leases without counting their attempts (a step this process cannot
    /// run): each step still `in_progress` under `owner` and the given attempt, expired or
    /// not, goes `in_progress -> pending` with `attempts - 1`, its lease cleared, runnable at
    /// `ready_at` (unless its task is blocked or cancelled), with one history row whose
    /// metadata carries `"released": reason`. Returns the ids released, in no particular order.
    async fn release_steps(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        ready_at: Timestamp,
        reason: &str,
    ) -> Result<Vec<StepId>>;
    /// The database server's current time. The one exception to "backends never read a
    /// clock": it lets a process compare its own clock with the database's (PostgreSQL:
    /// `clock_timestamp()`; SQLite: the system time as SQLite reads it). Nothing in the store
    /// uses it to decide anything.
    async fn database_time(&self) -> Result<Timestamp>;
    /// The earliest `ready_at` of any runnable or waiting step that `filter` admits, if any
    /// (when a claimer with that filter should look again). Indexed per handler, like claims.
    async fn next_ready_at(&self, filter: &ClaimFilter) -> Result<Option<Timestamp>>;
    /// Whether any step is runnable or waiting for a retry, and whether any is running.
    async fn outstanding_work(&self) -> Result<OutstandingWork>;

    // ---- coordination between processes ---------------------------------------------------
    /// Take the leadership `name` for `owner` until `expires_at`, when nobody holds it, its
    /// holder's term ended (`expires_at <= now`), or `owner` already holds it (a renewal).
    /// Returns whether `owner` is the leader now. Maintenance that must run in one process at
    /// a time (the rescuer) runs only while this keeps returning `true`.
    async fn try_acquire_leadership(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool>;
    /// Record that `worker` runs, as of `now`, the steps of `queue` (`None`: in-process) with
    /// these handlers ([`ANY_HANDLER`] for all of the queue's). One row per (worker, queue,
    /// handler), upserted; rows of any worker last seen before `forget_before` are deleted.
    async fn advertise_handlers(
        &self,
        worker: &str,
        queue: Option<&str>,
        handlers: &[String],
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()>;
    /// Of the `wanted` routes, those some worker advertised at or after `since`, directly or
    /// through [`ANY_HANDLER`] on the route's queue (input order, no duplicates).
    async fn advertised_routes(
        &self,
        wanted: &[HandlerRoute],
        since: Timestamp,
    ) -> Result<Vec<HandlerRoute>>;
    /// Give up the leadership `name` if `owner` holds it, so that another process can take it
    /// at once instead of after the term (graceful shutdown).
    async fn release_leadership(&self, name: &str, owner: &str) -> Result<()>;
    /// Hints from other processes that work may have appeared (tasks created, steps released):
    /// the value changes on each hint, several close together may arrive as one, and some may
    /// be lost; claimers still poll. `None` when the backend has no such channel
    /// ([`Capabilities::cross_process_notify`] is `false`).
    fn wakeups(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
    /// Wait until the hints of work committed so far have been sent to other processes (some
    /// are sent after their commit, in the background), for at most about a second. For a
    /// short-lived process, before it exits: `tasker task create` hints an orchestrator
    /// elsewhere.
    async fn flush_hints(&self) {}

    // ---- operator actions ------------------------------------------------------------------
    /// Cancel a task: `pending | in_progress | error -> cancelled`. Its pending and failed steps
    /// are cancelled; running steps finish but start nothing after them.
    ///
    /// `actor`, when given, is recorded as `"actor"` in the metadata of every transition the
    /// action writes (who did it: the API token, a CLI user); so for the two other actions.
    async fn cancel_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&Value>,
    ) -> Result<TaskRecord>;
    /// Retry a task in `error`: each permanently failed step goes `error -> pending` with
    /// `retry_limit` more attempts, and the task goes `error -> in_progress`.
    async fn retry_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&Value>,
    ) -> Result<TaskRecord>;
    /// Resolve a `pending` or `error` step by hand: it counts as done for its children, and the
    /// task may complete or get moving again.
    async fn resolve_step(
        &self,
        step_id: StepId,
        now: Timestamp,
        actor: Option<&Value>,
    ) -> Result<StepRecord>;

    // ---- introspection ---------------------------------------------------------------------
    /// Readiness of every step of the given tasks, computed from the steps' states and their
    /// edges (not from the stored counters), ordered by task id, then template order.
    async fn step_readiness(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<StepReadiness>>;
    /// The execution context of each given task that exists, ordered by task id.
    async fn task_execution_context(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<TaskExecutionContext>>;

    // ---- benchmarks (`tasker bench`) -------------------------------------------------------
    /// Row counts of every table, to verify a benchmark's end state. May scan whole tables.
    async fn table_counts(&self) -> Result<TableCounts>;
    /// Bulk-insert `count` tasks of `template_id` that already ran to completion: every step
    /// `complete` after one attempt, the layout's edges, and the history a real run leaves
    /// (`created -> pending`, `pending -> in_progress`, `in_progress -> complete`, sort keys 1..=3,
    /// the last one `most_recent`). They finished over the day before `now`, the last at `now`,
    /// each step with plausible ready, start and end times ([`seeding`] has the rule), so that
    /// analytics over the seeded history have something to show. Set-based and chunked: for
    /// loading a large history before measuring the hot queries against it, not for
    /// production use.
    async fn seed_completed_tasks(
        &self,
        template_id: TemplateId,
        layout: &StepLayout,
        count: u64,
        now: Timestamp,
    ) -> Result<()>;
    /// The database's practical limit for a job queue: creates its own table, inserts `jobs`
    /// rows, lets `workers` connections claim them 100 at a time (skipping rows locked by the
    /// others where the backend can) and mark them done, each step its own transaction with
    /// the default durability; then drops the table. No DAG, no history.
    async fn baseline_queue(&self, jobs: u64, workers: usize) -> Result<BaselineReport>;
    /// The reference the engine's hot path is measured against: a bare DAG queue in its own
    /// tables of this database (created, then dropped), with nothing of the engine. One narrow
    /// table of steps with a partial index on the ready ones, a join counter per task; a step
    /// row is inserted only when it becomes runnable; workers claim `batch` steps in one
    /// statement (skipping rows other workers locked where the backend can) and complete a
    /// batch in one transaction that marks the steps done, releases their children and
    /// decrements join counters (locked in task order). With `history`, the same statements
    /// also write a history row for every state change of every step and task.
    async fn bare_dag_queue(&self, spec: BareQueueSpec) -> Result<BareQueueReport>;
}
