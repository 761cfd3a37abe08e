//! The PostgreSQL backend of Tasker: the production store, shared by any number of
//! orchestrator processes on any number of machines.
//!
//! A `deadpool-postgres` pool of plain connections; batches travel as array parameters and are
//! applied with `unnest`, so a batch costs a handful of statements whatever its size. The SQL
//! lives in `queries/*.sql` (one file per operation), the schema in `migrations/`.
//!
//! ```no_run
//! # async fn open() -> Result<(), tasker_store::Error> {
//! use tasker_postgres::{PgOptions, PostgresStore};
//! use tasker_store::Store;
//!
//! let store = PostgresStore::connect_with(
//!     "postgres://postgres@127.0.0.1:5432/tasker",
//!     PgOptions { schema: Some("tasker".into()), ..PgOptions::default() },
//! )
//! .await?;
//! store.migrate().await?;
//! # Ok(())
//! # }
//! ```

mod analytics;
mod bare_queue;
mod bench;
mod claim;
mod complete;
mod create;
mod error;
mod isolated;
pub use isolated::{SchemaClaim, claim_schema, drop_orphaned_schemas, drop_unclaimed_schemas};
mod leadership;
mod leases;
mod migrate;
mod notify;
mod operator;
mod read;
mod routes;
mod rows;
mod sql;
mod templates;
mod tokens;
mod transitions;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::time::Duration;
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

/// Connection options beyond the URL.
///
/// Every call on the database path is bounded: waiting for a pooled connection
/// (`pool_wait_timeout`), opening one (`connect_timeout`), each statement on the server
/// (`statement_timeout`) and each wait for a lock (`lock_timeout`); a dead peer is noticed by
/// TCP keepalives (`keepalives_idle`). A call that runs out of time fails with
/// [`Error::Unavailable`] (or [`Error::Conflict`] for a lock wait), which callers retry.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Schema for every table (set as the `search_path` of each connection); `None` uses the
    /// server's default. Tests give each run its own schema.
    pub schema: Option<String>,
    /// Connections of the main pool (claims, completions, operator actions, reads).
    pub pool_size: usize,
    /// Connections of a pool of their own for lease renewals, lease releases and
    /// `database_time`, so that a busy main pool cannot keep a heartbeat from renewing.
    pub lease_pool_size: usize,
    /// How long a call waits for a free connection of its pool before it fails as
    /// unavailable (default 10 s).
    pub pool_wait_timeout: Duration,
    /// How long opening a connection may take (default 5 s), unless the URL sets
    /// `connect_timeout`.
    pub connect_timeout: Duration,
    /// Idle time before TCP keepalive probes start on each connection (default 30 s), unless the
    /// URL sets `keepalives_idle`; `None` keeps the driver's default. Keepalives stay on unless
    /// the URL turns them off (`keepalives=0`).
    pub keepalives_idle: Option<Duration>,
    /// The server-side `statement_timeout` of each connection (default 30 s), unless the URL's
    /// `options` set one; `None` leaves the server's setting. Migrations run without it.
    pub statement_timeout: Option<Duration>,
    /// The server-side `lock_timeout` of each connection (default 10 s), unless the URL's
    /// `options` set one; `None` leaves the server's setting. Migrations run without it.
    pub lock_timeout: Option<Duration>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: None,
            pool_size: 16,
            lease_pool_size: 2,
            pool_wait_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            keepalives_idle: Some(Duration::from_secs(30)),
            statement_timeout: Some(Duration::from_secs(30)),
            lock_timeout: Some(Duration::from_secs(10)),
        }
    }
}

/// The PostgreSQL [`Store`].
pub struct PostgresStore {
    pool: Pool,
    /// Lease renewals and releases, apart from the main pool (see [`PgOptions::lease_pool_size`]).
    lease_pool: Pool,
    schema: Option<String>,
    /// Cross-process wake-ups: one listening connection outside the pool, started on demand.
    notifier: notify::Notifier,
    /// Hints of created tasks, sent after their commit (see [`notify::Hinter`]).
    hinter: notify::Hinter,
    /// Steps the last claim returned: how the next one is planned (see `sql::plan_mode`).
    last_claim_size: std::sync::atomic::AtomicUsize,
}

impl PostgresStore {
    /// Connect with default options. Connections are opened lazily; this checks that one can be.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        Self::connect_with(url, PgOptions::default()).await
    }

    pub async fn connect_with(url: &str, options: PgOptions) -> Result<PostgresStore> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::Database(format!("invalid database url: {e}")))?;
        // JIT compilation costs tens of milliseconds per statement, and the planner's cost
        // estimates on young tables easily cross its threshold: never worth it for short OLTP
        // statements. Options the URL carries (`?options=...`) are kept, and win.
        let given = config.get_options().unwrap_or_default().to_owned();
        let mut session = String::from("-c jit=off");
        if let Some(schema) = &options.schema {
            check_schema_name(schema).map_err(Error::Database)?;
            session.push_str(&format!(" -c search_path={schema}"));
        }
        for (name, value) in [
            ("statement_timeout", options.statement_timeout),
            ("lock_timeout", options.lock_timeout),
        ] {
            if let Some(value) = value
                && !given.contains(name)
            {
                session.push_str(&format!(" -c {name}={}", value.as_millis().max(1)));
            }
        }
        let session = if given.is_empty() {
            session
        } else {
            format!("{given} {session}")
        };
        config.options(session);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if let Some(idle) = options.keepalives_idle
            && !url_sets(url, "keepalives_idle")
        {
            config.keepalives_idle(idle);
        }
        // Wake-ups go on the schema's channel: the one in the options, or else the one the
        // URL puts first on the search path (how `tasker` commands reach an application's
        // schema), so that both hint and listen on the same channel.
        let wake_schema = options
            .schema
            .clone()
            .or_else(|| search_path_schema(&given));
        let notifier = notify::Notifier::new(config.clone(), wake_schema.as_deref());
        let pool = build_pool(config.clone(), options.pool_size, &options)?;
        let lease_pool = build_pool(config, options.lease_pool_size, &options)?;
        let hinter = notify::Hinter::new(pool.clone(), wake_schema.as_deref());
        let store = PostgresStore {
            pool,
            lease_pool,
            schema: options.schema,
            notifier,
            hinter,
            last_claim_size: std::sync::atomic::AtomicUsize::new(0),
        };
        drop(store.client().await?);
        Ok(store)
    }

    pub(crate) async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(error::pool)
    }

    /// A connection of the lease pool: renewals and releases of leases only.
    pub(crate) async fn lease_client(&self) -> Result<Object> {
        self.lease_pool.get().await.map_err(error::pool)
    }
}

/// The first schema of a `search_path` set in connection options (`-c search_path=a,b` or
/// `--search_path=a`), when it is a plain schema name (`check_schema_name`).
fn search_path_schema(options: &str) -> Option<String> {
    let value = options
        .split_whitespace()
        .filter_map(|word| {
            word.strip_prefix("search_path=")
                .or_else(|| word.strip_prefix("--search_path="))
        })
        .next_back()?;
    let first = value.split(',').next()?.trim();
    check_schema_name(first).ok().map(|()| first.to_owned())
}

/// Whether the URL names the connection parameter `name` (in either URL or key=value form).
fn url_sets(url: &str, name: &str) -> bool {
    url.split(['?', '&', ' '])
        .any(|part| part.trim_start().starts_with(&format!("{name}=")))
}

fn build_pool(config: tokio_postgres::Config, size: usize, options: &PgOptions) -> Result<Pool> {
    let connect = *config
        .get_connect_timeout()
        .unwrap_or(&options.connect_timeout);
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(options.pool_wait_timeout))
        // The connect timeout bounds opening a connection already; this bounds the whole of it.
        .create_timeout(Some(connect + Duration::from_secs(1)))
        .recycle_timeout(Some(connect))
        .build()
        .map_err(|e| Error::Database(format!("cannot build connection pool: {e}")))
}

/// Checks a schema name for [`PgOptions::schema`]: lower-case letters, digits and underscores,
/// starting with a letter or an underscore, at most 63 bytes (PostgreSQL's limit), and not
/// starting with `pg_` (reserved for the system's schemas). The name goes into a connection
/// option and into DDL, so nothing else is accepted. The error says what is wrong.
pub fn check_schema_name(schema: &str) -> std::result::Result<(), String> {
    let problem = if schema.is_empty() {
        "it is empty"
    } else if !schema
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        "use only lower-case letters, digits and underscores"
    } else if schema.starts_with(|c: char| c.is_ascii_digit()) {
        "it must start with a letter or an underscore"
    } else if schema.len() > 63 {
        "it is longer than 63 bytes, PostgreSQL's limit"
    } else if schema.starts_with("pg_") {
        "names starting with pg_ are reserved for PostgreSQL's own schemas"
    } else {
        return Ok(());
    };
    Err(format!("invalid schema name {schema:?}: {problem}"))
}

#[async_trait]
impl Store for PostgresStore {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            skip_locked: true,
            multi_process: true,
            cross_process_notify: true,
        }
    }

    async fn describe(&self) -> Result<BackendInfo> {
        read::describe(self).await
    }

    async fn migrate(&self) -> Result<Vec<String>> {
        migrate::migrate(self, self.schema.as_deref()).await
    }

    async fn pending_migrations(&self) -> Result<Vec<String>> {
        migrate::pending(self).await
    }

    async fn register_template(
        &self,
        template: &NewTemplate,
        now: Timestamp,
    ) -> Result<RegisteredTemplate> {
        templates::register(self, template, now).await
    }

    async fn find_template(
        &self,
        namespace: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<StoredTemplate>> {
        templates::find(self, namespace, name, version).await
    }

    async fn template_by_id(&self, id: TemplateId) -> Result<Option<StoredTemplate>> {
        templates::by_id(self, id).await
    }

    async fn list_templates(&self) -> Result<Vec<StoredTemplate>> {
        templates::list(self).await
    }

    async fn create_tasks(&self, tasks: &[NewTask], now: Timestamp) -> Result<Vec<CreatedTask>> {
        create::create_tasks(self, tasks, now).await
    }

    async fn task(&self, id: TaskId) -> Result<Option<TaskRecord>> {
        read::task(self, id).await
    }

    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRecord>> {
        read::list_tasks(self, filter).await
    }

    async fn count_tasks_by_state(&self) -> Result<Vec<(State, i64)>> {
        read::count_tasks_by_state(self).await
    }

    async fn steps_of_task(&self, task_id: TaskId) -> Result<Vec<StepRecord>> {
        read::steps_of_task(self, task_id).await
    }

    async fn step(&self, id: StepId) -> Result<Option<StepRecord>> {
        read::step(self, id).await
    }

    async fn task_transitions(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>> {
        read::transitions(self, sql::TASK_TRANSITIONS, task_id).await
    }

    async fn step_transitions_of_task(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>> {
        read::transitions(self, sql::STEP_TRANSITIONS_OF_TASK, task_id).await
    }

    async fn current_task_transition(&self, task_id: TaskId) -> Result<Option<TransitionRecord>> {
        Ok(
            read::transitions(self, sql::CURRENT_TASK_TRANSITION, task_id)
                .await?
                .pop(),
        )
    }

    async fn claim_steps(&self, request: &ClaimRequest) -> Result<Vec<ClaimedStep>> {
        claim::claim_steps(self, request).await
    }

    async fn complete_and_claim(
        &self,
        outcomes: &[StepOutcome],
        now: Timestamp,
        handoff: Option<&Handoff>,
    ) -> Result<Completion> {
        complete::complete_steps(self, outcomes, now, handoff).await
    }

    async fn renew_leases(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Vec<StepId>> {
        leases::renew(self, owner, steps, now, expires_at).await
    }

    async fn expired_leases(&self, now: Timestamp, limit: u32) -> Result<Vec<ExpiredLease>> {
        leases::expired(self, now, limit).await
    }

    async fn release_leases(&self, owner: &str, now: Timestamp) -> Result<u64> {
        leases::release(self, owner, now).await
    }

    async fn release_steps(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        ready_at: Timestamp,
        reason: &str,
    ) -> Result<Vec<StepId>> {
        leases::release_steps(self, owner, steps, now, ready_at, reason).await
    }

    async fn database_time(&self) -> Result<Timestamp> {
        leases::database_time(self).await
    }

    async fn next_ready_at(&self, filter: &ClaimFilter) -> Result<Option<Timestamp>> {
        read::next_ready_at(self, filter).await
    }

    async fn outstanding_work(&self) -> Result<OutstandingWork> {
        read::outstanding_work(self).await
    }

    async fn try_acquire_leadership(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        leadership::try_acquire(self, name, owner, now, expires_at).await
    }

    async fn advertise_handlers(
        &self,
        worker: &str,
        queue: Option<&str>,
        handlers: &[String],
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<()> {
        routes::advertise(self, worker, queue, handlers, now, forget_before).await
    }

    async fn advertised_routes(
        &self,
        wanted: &[HandlerRoute],
        since: Timestamp,
    ) -> Result<Vec<HandlerRoute>> {
        routes::advertised(self, wanted, since).await
    }

    async fn release_leadership(&self, name: &str, owner: &str) -> Result<()> {
        leadership::release(self, name, owner).await
    }

    fn wakeups(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.notifier.wakeups()
    }

    async fn flush_hints(&self) {
        self.hinter.flush(std::time::Duration::from_secs(1)).await;
    }

    async fn cancel_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<TaskRecord> {
        operator::cancel_task(self, task_id, now, actor).await
    }

    async fn retry_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<TaskRecord> {
        operator::retry_task(self, task_id, now, actor).await
    }

    async fn resolve_step(
        &self,
        step_id: StepId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<StepRecord> {
        operator::resolve_step(self, step_id, now, actor).await
    }

    async fn step_readiness(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<StepReadiness>> {
        read::step_readiness(self, task_ids, now).await
    }

    async fn task_execution_context(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<TaskExecutionContext>> {
        read::task_execution_context(self, task_ids, now).await
    }

    async fn table_counts(&self) -> Result<TableCounts> {
        bench::table_counts(self).await
    }

    async fn seed_completed_tasks(
        &self,
        template_id: TemplateId,
        layout: &StepLayout,
        count: u64,
        now: Timestamp,
    ) -> Result<()> {
        bench::seed_completed_tasks(self, template_id, layout, count, now).await
    }

    async fn baseline_queue(&self, jobs: u64, workers: usize) -> Result<BaselineReport> {
        bench::baseline_queue(self, jobs, workers).await
    }

    async fn bare_dag_queue(&self, spec: BareQueueSpec) -> Result<BareQueueReport> {
        bare_queue::bare_dag_queue(self, spec).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked_with_a_reason() {
        for good in ["tasker", "_app", "app_2", &"a".repeat(63)] {
            assert_eq!(check_schema_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", "it is empty"),
            ("App", "use only lower-case letters, digits and underscores"),
            ("a-b", "use only lower-case letters, digits and underscores"),
            ("a b", "use only lower-case letters, digits and underscores"),
            ("2app", "it must start with a letter or an underscore"),
            (
                &"a".repeat(64),
                "it is longer than 63 bytes, PostgreSQL's limit",
            ),
            (
                "pg_app",
                "names starting with pg_ are reserved for PostgreSQL's own schemas",
            ),
        ] {
            assert_eq!(
                check_schema_name(bad),
                Err(format!("invalid schema name {bad:?}: {why}"))
            );
        }
    }

    #[test]
    fn the_search_path_of_a_url_names_the_wake_up_schema() {
        assert_eq!(search_path_schema("-c search_path=app"), Some("app".into()));
        assert_eq!(
            search_path_schema("-c jit=off -c search_path=app,public"),
            Some("app".into())
        );
        assert_eq!(search_path_schema("--search_path=app"), Some("app".into()));
        assert_eq!(
            search_path_schema("-c search_path=a -c search_path=b"),
            Some("b".into())
        );
        assert_eq!(search_path_schema("-c search_path=\"$user\",public"), None);
        assert_eq!(search_path_schema("-c jit=off"), None);
        assert_eq!(search_path_schema(""), None);
    }
}
