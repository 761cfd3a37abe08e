//! The embedded SQLite backend of Tasker.
//!
//! One connection behind a mutex, used from `spawn_blocking`: SQLite has one writer anyway,
//! and a single connection makes every multi-statement operation (run in one
//! `BEGIN IMMEDIATE` transaction) trivially serializable. SQL lives in `queries/*.sql`.

mod analytics;
mod bare_queue;
mod bench;
mod bookkeeping;
mod claim;
mod codec;
mod complete;
mod connection;
mod error;
mod history;
mod leadership;
mod leases;
mod operator;
mod queries;
mod readiness;
mod routes;
mod schema;
mod tasks;
mod templates;
mod tokens;

use async_trait::async_trait;
use rusqlite::Connection;
use std::sync::{Arc, Mutex};
use tasker_model::{
    State, StepId, StepReadiness, StepRecord, TaskExecutionContext, TaskId, TaskRecord, TemplateId,
    Timestamp, TransitionRecord,
};
use tasker_store::{
    BackendInfo, BareQueueReport, BareQueueSpec, BaselineReport, Capabilities, ClaimFilter,
    ClaimRequest, ClaimedStep, Completion, CreatedTask, Error, ExpiredLease, HandlerRoute, Handoff,
    NewTask, NewTemplate, OutstandingWork, RegisteredTemplate, Result, StepLayout, StepOutcome,
    Store, StoredTemplate, TableCounts, TaskFilter,
};

use crate::error::SqlResultExt;

/// The SQLite store. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    // Declared first so that it is dropped (and the connection closed) before the files go.
    conn: Mutex<Connection>,
    location: connection::Location,
    _files: Option<DeleteOnDrop>,
}

/// Deletes a database file and its WAL companions (temporary databases of tests).
struct DeleteOnDrop(std::path::PathBuf);

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            // Best effort: a file that is already gone is fine.
            let _ = std::fs::remove_file(path);
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Open (creating the file if missing) `sqlite://relative.db`, `sqlite:///abs/path.db`, a
    /// plain path, or `sqlite::memory:`. Does not migrate.
    pub fn open(path_or_url: &str) -> Result<SqliteStore> {
        Self::open_inner(path_or_url, false)
    }

    /// Like [`SqliteStore::open`], and the database file is deleted when the last clone of
    /// the store is dropped: for tests and benchmarks.
    pub fn open_temporary(path: &str) -> Result<SqliteStore> {
        Self::open_inner(path, true)
    }

    fn open_inner(path_or_url: &str, temporary: bool) -> Result<SqliteStore> {
        let location = connection::parse(path_or_url);
        let conn = connection::open(&location)?;
        let files = match &location {
            connection::Location::File(path) if temporary => {
                Some(DeleteOnDrop(path.clone().into()))
            }
            _ => None,
        };
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                location,
                _files: files,
            }),
        })
    }

    /// Run `f` on the connection on a blocking thread.
    async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.run_at(move |conn, _| f(conn)).await
    }

    /// Like `run`, also handing over where the database lives (to open more connections).
    async fn run_at<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &connection::Location) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // A panic mid-call dropped its transaction, which rolled back: the connection is
            // still consistent, so a poisoned lock is safe to take over.
            let mut guard = inner
                .conn
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard, &inner.location)
        })
        .await
        .map_err(|e| Error::Database(format!("sqlite worker thread failed: {e}")))?
    }

    /// Run a read of several statements in one deferred transaction: one consistent snapshot
    /// even while another process writes.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.run(move |conn| {
            let tx = conn.transaction().sql()?;
            let out = f(&tx)?;
            tx.commit().sql()?;
            Ok(out)
        })
        .await
    }

    /// Test and diagnostics access to the connection (e.g. `EXPLAIN QUERY PLAN`).
    #[doc(hidden)]
    pub async fn with_connection<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.run(move |conn| f(conn).sql()).await
    }
}

/// The SQL the backend runs for its hot queries, for plan checks in tests.
#[doc(hidden)]
pub mod hot_queries {
    /// The claim for `handlers` handlers (1 to 32): a `UNION ALL` of one branch per handler.
    pub fn claim_steps(handlers: usize) -> &'static str {
        crate::routes::claim_text(handlers)
    }
    pub const CLAIM_TASK_STEPS: &str = crate::queries::CLAIM_TASK_STEPS;
    pub const QUEUE_HANDLERS: &str = crate::queries::QUEUE_HANDLERS;
    pub const STEP_ROUTE: &str = crate::queries::STEP_ROUTE;
    pub const ADVERTISE_HANDLER: &str = crate::queries::ADVERTISE_HANDLER;
    pub const FORGET_WORKERS: &str = crate::queries::FORGET_WORKERS;
    pub const ROUTE_ADVERTISED: &str = crate::queries::ROUTE_ADVERTISED;
    pub const FINISHED_COUNTS: &str = crate::queries::FINISHED_COUNTS;
    pub const FINISHED_TASKS: &str = crate::queries::FINISHED_TASKS;
    pub const FINISHED_TASKS_BY_TEMPLATE: &str = crate::queries::FINISHED_TASKS_BY_TEMPLATE;
    pub const STEP_SAMPLES: &str = crate::queries::STEP_SAMPLES;
    pub const COUNT_RUNNABLE_STEPS: &str = crate::queries::COUNT_RUNNABLE_STEPS;
    pub const STEPS_OF_TASK: &str = crate::queries::STEPS_OF_TASK;
    pub const TASKS_LIST: &str = crate::queries::TASKS_LIST;
    pub const TASKS_LIST_BY_STATE: &str = crate::queries::TASKS_LIST_BY_STATE;
    pub const TASKS_LIST_BY_TEMPLATE: &str = crate::queries::TASKS_LIST_BY_TEMPLATE;
    pub const PARENTS_OF_TASK: &str = crate::queries::PARENTS_OF_TASK;
    pub const RELEASE_CHILDREN: &str = crate::queries::RELEASE_CHILDREN;
    pub const PARENT_RESULTS: &str = crate::queries::PARENT_RESULTS;
    pub const TASK_CLEAR_READY: &str = crate::queries::TASK_CLEAR_READY;
    pub const TASK_RESTORE_READY: &str = crate::queries::TASK_RESTORE_READY;
    pub const TASK_ANY_RUNNING: &str = crate::queries::TASK_ANY_RUNNING;
    pub const TASK_TRANSITIONS: &str = crate::queries::TASK_TRANSITIONS;
    pub const TASK_TRANSITION_CURRENT: &str = crate::queries::TASK_TRANSITION_CURRENT;
    pub const STEP_TRANSITIONS_OF_TASK: &str = crate::queries::STEP_TRANSITIONS_OF_TASK;
    pub const EXPIRED_LEASES: &str = crate::queries::EXPIRED_LEASES;
    pub const LEASES_OF_OWNER: &str = crate::queries::LEASES_OF_OWNER;
    pub const NEXT_READY_AT: &str = crate::queries::NEXT_READY_AT;
    pub const OUTSTANDING_WORK: &str = crate::queries::OUTSTANDING_WORK;
    pub const STEP_READINESS: &str = crate::queries::STEP_READINESS;
    pub const TASK_EXECUTION_CONTEXT: &str = crate::queries::TASK_EXECUTION_CONTEXT;
}

#[async_trait]
impl Store for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            skip_locked: false,
            multi_process: false,
            cross_process_notify: false,
        }
    }

    async fn describe(&self) -> Result<BackendInfo> {
        self.run(|conn| {
            conn.prepare_cached(queries::DESCRIBE)
                .sql()?
                .query_row([], |row| {
                    let synchronous = match row.get::<_, i64>(2)? {
                        0 => "off".to_owned(),
                        1 => "normal".to_owned(),
                        2 => "full".to_owned(),
                        3 => "extra".to_owned(),
                        other => other.to_string(),
                    };
                    Ok(BackendInfo {
                        backend: "sqlite".into(),
                        server_version: row.get(0)?,
                        settings: vec![
                            ("journal_mode".into(), row.get(1)?),
                            ("synchronous".into(), synchronous),
                            ("busy_timeout_ms".into(), row.get::<_, i64>(3)?.to_string()),
                            ("foreign_keys".into(), row.get::<_, i64>(4)?.to_string()),
                        ],
                    })
                })
                .sql()
        })
        .await
    }

    async fn migrate(&self) -> Result<Vec<String>> {
        self.run(schema::migrate).await
    }

    async fn pending_migrations(&self) -> Result<Vec<String>> {
        self.run(schema::pending).await
    }

    async fn register_template(
        &self,
        template: &NewTemplate,
        now: Timestamp,
    ) -> Result<RegisteredTemplate> {
        let template = template.clone();
        self.run(move |conn| templates::register(conn, &template, now))
            .await
    }

    async fn find_template(
        &self,
        namespace: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<StoredTemplate>> {
        let (namespace, name) = (namespace.to_owned(), name.to_owned());
        let version = version.map(str::to_owned);
        self.run(move |conn| templates::find(conn, &namespace, &name, version.as_deref()))
            .await
    }

    async fn template_by_id(&self, id: TemplateId) -> Result<Option<StoredTemplate>> {
        self.run(move |conn| templates::by_id(conn, id)).await
    }

    async fn list_templates(&self) -> Result<Vec<StoredTemplate>> {
        self.run(|conn| templates::list(conn)).await
    }

    async fn create_tasks(&self, tasks: &[NewTask], now: Timestamp) -> Result<Vec<CreatedTask>> {
        let tasks = tasks.to_vec();
        self.run(move |conn| tasks::create(conn, &tasks, now)).await
    }

    async fn task(&self, id: TaskId) -> Result<Option<TaskRecord>> {
        self.run(move |conn| tasks::by_id(conn, id)).await
    }

    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRecord>> {
        let filter = filter.clone();
        self.read(move |conn| tasks::list(conn, &filter)).await
    }

    async fn count_tasks_by_state(&self) -> Result<Vec<(State, i64)>> {
        self.run(|conn| tasks::count_by_state(conn)).await
    }

    async fn steps_of_task(&self, task_id: TaskId) -> Result<Vec<StepRecord>> {
        self.read(move |conn| tasks::steps(conn, task_id)).await
    }

    async fn step(&self, id: StepId) -> Result<Option<StepRecord>> {
        self.read(move |conn| tasks::step(conn, id)).await
    }

    async fn task_transitions(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>> {
        self.run(move |conn| tasks::transitions(conn, queries::TASK_TRANSITIONS, task_id))
            .await
    }

    async fn step_transitions_of_task(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>> {
        self.run(move |conn| tasks::transitions(conn, queries::STEP_TRANSITIONS_OF_TASK, task_id))
            .await
    }

    async fn current_task_transition(&self, task_id: TaskId) -> Result<Option<TransitionRecord>> {
        self.run(move |conn| {
            tasks::transitions(conn, queries::TASK_TRANSITION_CURRENT, task_id)
                .map(|rows| rows.into_iter().next())
        })
        .await
    }

    async fn claim_steps(&self, request: &ClaimRequest) -> Result<Vec<ClaimedStep>> {
        let request = request.clone();
        self.run(move |conn| claim::claim(conn, &request)).await
    }

    async fn complete_and_claim(
        &self,
        outcomes: &[StepOutcome],
        now: Timestamp,
        handoff: Option<&Handoff>,
    ) -> Result<Completion> {
        let outcomes = outcomes.to_vec();
        let handoff = handoff.cloned();
        self.run(move |conn| complete::complete(conn, &outcomes, now, handoff.as_ref()))
            .await
    }

    async fn renew_leases(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Vec<StepId>> {
        let (owner, steps) = (owner.to_owned(), steps.to_vec());
        self.run(move |conn| leases::renew(conn, &owner, &steps, now, expires_at))
            .await
    }

    async fn expired_leases(&self, now: Timestamp, limit: u32) -> Result<Vec<ExpiredLease>> {
        self.run(move |conn| leases::expired(conn, now, limit))
            .await
    }

    async fn release_leases(&self, owner: &str, now: Timestamp) -> Result<u64> {
        let owner = owner.to_owned();
        self.run(move |conn| leases::release(conn, &owner, now))
            .await
    }

    async fn release_steps(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        ready_at: Timestamp,
        reason: &str,
    ) -> Result<Vec<StepId>> {
        let (owner, steps, reason) = (owner.to_owned(), steps.to_vec(), reason.to_owned());
        self.run(move |conn| leases::release_steps(conn, &owner, &steps, now, ready_at, &reason))
            .await
    }

    async fn database_time(&self) -> Result<Timestamp> {
        self.run(|conn| leases::database_time(conn)).await
    }

    async fn next_ready_at(&self, filter: &ClaimFilter) -> Result<Option<Timestamp>> {
        let filter = filter.clone();
        self.read(move |conn| routes::next_ready_at(conn, &filter))
            .await
    }

    async fn outstanding_work(&self) -> Result<OutstandingWork> {
        self.run(|conn| leases::outstanding(conn)).await
    }

    async fn try_acquire_leadership(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let (name, owner) = (name.to_owned(), owner.to_owned());
        self.run(move |conn| leadership::try_acquire(conn, &name, &owner, now, expires_at))
            .await
    }

    async fn advertise_handlers(
        &self,
        worker: &str,
        queue: Option<&str>,
        handlers: &[String],
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        let (worker, queue, handlers) = (
            worker.to_owned(),
            queue.map(str::to_owned),
            handlers.to_vec(),
        );
        self.run(move |conn| {
            routes::advertise(
                conn,
                &worker,
                queue.as_deref(),
                &handlers,
                now,
                forget_before,
            )
        })
        .await
    }

    async fn advertised_routes(
        &self,
        wanted: &[HandlerRoute],
        since: Timestamp,
    ) -> Result<Vec<HandlerRoute>> {
        let wanted = wanted.to_vec();
        self.read(move |conn| routes::advertised(conn, &wanted, since))
            .await
    }

    async fn release_leadership(&self, name: &str, owner: &str) -> Result<()> {
        let (name, owner) = (name.to_owned(), owner.to_owned());
        self.run(move |conn| leadership::release(conn, &name, &owner))
            .await
    }

    async fn cancel_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<TaskRecord> {
        let actor = actor.cloned();
        self.run(move |conn| operator::cancel(conn, task_id, now, actor.as_ref()))
            .await
    }

    async fn retry_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<TaskRecord> {
        let actor = actor.cloned();
        self.run(move |conn| operator::retry(conn, task_id, now, actor.as_ref()))
            .await
    }

    async fn resolve_step(
        &self,
        step_id: StepId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<StepRecord> {
        let actor = actor.cloned();
        self.run(move |conn| operator::resolve(conn, step_id, now, actor.as_ref()))
            .await
    }

    async fn step_readiness(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<StepReadiness>> {
        let task_ids = task_ids.to_vec();
        self.read(move |conn| readiness::steps(conn, &task_ids, now))
            .await
    }

    async fn task_execution_context(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<TaskExecutionContext>> {
        let task_ids = task_ids.to_vec();
        self.read(move |conn| readiness::contexts(conn, &task_ids, now))
            .await
    }

    async fn table_counts(&self) -> Result<TableCounts> {
        self.read(bench::table_counts).await
    }

    async fn seed_completed_tasks(
        &self,
        template_id: TemplateId,
        layout: &StepLayout,
        count: u64,
        now: Timestamp,
    ) -> Result<()> {
        let layout = layout.clone();
        self.run(move |conn| bench::seed_completed_tasks(conn, template_id, &layout, count, now))
            .await
    }

    async fn baseline_queue(&self, jobs: u64, workers: usize) -> Result<BaselineReport> {
        self.run_at(move |conn, location| bench::baseline_queue(conn, location, jobs, workers))
            .await
    }

    async fn bare_dag_queue(&self, spec: BareQueueSpec) -> Result<BareQueueReport> {
        self.run_at(move |conn, _| bare_queue::bare_dag_queue(conn, spec))
            .await
    }
}
