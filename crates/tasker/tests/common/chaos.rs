//! Fault injection: a store that delays and fails the orchestrator's statements, on purpose
//! (a number of outages, one refused outcome) or at random (from a seed), and a recorder of
//! handler runs in real time, so that a run's invariants can be checked against what actually
//! executed.

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tasker::model::{
    State, StepId, StepReadiness, StepRecord, TaskExecutionContext, TaskId, TaskRecord, TemplateId,
    Timestamp, TransitionRecord,
};
use tasker::store::{
    BackendInfo, BareQueueReport, BareQueueSpec, BaselineReport, Capabilities, ClaimFilter,
    ClaimRequest, ClaimedStep, Completion, CreatedTask, Error, ExpiredLease, HandlerRoute, Handoff,
    NewTask, NewTemplate, OutstandingWork, RegisteredTemplate, Result, StepLayout, StepOutcome,
    Store, StoredTemplate, TableCounts, TaskFilter,
};
use tokio::time::Instant;

/// How often and how badly the store misbehaves. Probabilities are per call.
#[derive(Debug, Clone, Default)]
pub struct ChaosPlan {
    /// A hot-path statement is slow (up to `max_delay`).
    pub slow: f64,
    pub max_delay: Duration,
    /// It fails before reaching the database.
    pub fail_before: f64,
    /// It commits, but the answer is lost (a connection dropped at commit).
    pub fail_after: f64,
    /// A lease renewal stalls for `stall` (longer than a lease).
    pub renew_stall: f64,
    pub stall: Duration,
    /// The next this many renewals stall for `stall`, whatever `renew_stall` says.
    pub stall_next_renewals: u32,
    /// Every outcome write waits this long first (a stalled completer).
    pub completion_stall: Duration,
    /// Outcome writes that contain a success are refused as a database error.
    pub refuse_successes: bool,
    /// Claims come back empty although steps are ready (rows someone else holds locked).
    pub hide_claims: bool,
    /// The next this many claims fail as if the database were down.
    pub claims_unavailable: u32,
    /// The next this many outcome writes fail as if the database were down.
    pub completions_unavailable: u32,
    /// Owner outcomes (not rescues) of this step and attempt are refused as a database error.
    pub refused_attempt: Option<(StepId, i32)>,
}

impl ChaosPlan {
    /// Nothing goes wrong.
    pub fn calm() -> Self {
        ChaosPlan::default()
    }
}

/// What was injected, for the report printed with the seed.
#[derive(Debug, Default)]
pub struct Injected {
    pub delays: AtomicU64,
    pub stalls: AtomicU64,
    pub failures_before: AtomicU64,
    pub failures_after: AtomicU64,
    /// Claim calls made, whatever their fate.
    pub claims: AtomicU64,
}

impl std::fmt::Display for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        write!(
            f,
            "{} slow statements, {} renewal stalls, {} failures before and {} after the database",
            g(&self.delays),
            g(&self.stalls),
            g(&self.failures_before),
            g(&self.failures_after)
        )
    }
}

pub struct ChaosStore {
    inner: Arc<dyn Store>,
    plan: Mutex<ChaosPlan>,
    rng: Mutex<StdRng>,
    pub injected: Injected,
}

/// The portable kinds the backends map SQLSTATE classes to: 08xxx, 57P0x, 57014, 25006 and
/// 53xxx are `Unavailable`; 40001, 40P01 and 55P03 are `Conflict`; anything else `Database`.
fn random_error(rng: &mut StdRng) -> Error {
    match rng.random_range(0..100) {
        0..=24 => Error::Unavailable("injected: connection lost (08006)".into()),
        25..=39 => Error::Unavailable("injected: statement timeout (57014)".into()),
        40..=49 => {
            Error::Unavailable("injected: read-only transaction after failover (25006)".into())
        }
        50..=59 => Error::Unavailable("injected: too many connections (53300)".into()),
        60..=79 => Error::Conflict("injected: serialization failure (40001)".into()),
        80..=94 => Error::Conflict("injected: deadlock detected (40P01)".into()),
        _ => Error::Database("injected: internal error (XX000)".into()),
    }
}

impl ChaosStore {
    pub fn new(inner: Arc<dyn Store>, plan: ChaosPlan, seed: u64) -> Self {
        ChaosStore {
            inner,
            plan: Mutex::new(plan),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            injected: Injected::default(),
        }
    }

    pub fn set_plan(&self, plan: ChaosPlan) {
        *self.plan.lock().unwrap() = plan;
    }

    /// The next `n` renewals stall (see [`ChaosPlan::stall_next_renewals`]).
    pub fn stall_renewals(&self, n: u32) {
        self.plan.lock().unwrap().stall_next_renewals = n;
    }

    fn plan(&self) -> ChaosPlan {
        self.plan.lock().unwrap().clone()
    }

    /// Takes one from an outage counter of the plan; `true` while it lasts.
    fn outage(&self, counter: impl Fn(&mut ChaosPlan) -> &mut u32) -> bool {
        let mut plan = self.plan.lock().unwrap();
        let left = counter(&mut plan);
        let hit = *left > 0;
        *left = left.saturating_sub(1);
        hit
    }

    /// Decides this call's fate: a delay, then maybe an error before, maybe one after.
    fn draw(&self, renewal: bool) -> (Duration, Option<Error>, Option<Error>) {
        let plan = {
            let mut plan = self.plan.lock().unwrap();
            let current = plan.clone();
            if renewal {
                plan.stall_next_renewals = plan.stall_next_renewals.saturating_sub(1);
            }
            current
        };
        let mut rng = self.rng.lock().unwrap();
        let mut delay = Duration::ZERO;
        if renewal && (plan.stall_next_renewals > 0 || rng.random_bool(plan.renew_stall)) {
            self.injected.stalls.fetch_add(1, Ordering::Relaxed);
            delay = plan.stall;
        } else if rng.random_bool(plan.slow) && !plan.max_delay.is_zero() {
            self.injected.delays.fetch_add(1, Ordering::Relaxed);
            delay = rng.random_range(Duration::ZERO..plan.max_delay);
        }
        let before = rng.random_bool(plan.fail_before).then(|| {
            self.injected
                .failures_before
                .fetch_add(1, Ordering::Relaxed);
            random_error(&mut rng)
        });
        let after = (before.is_none() && rng.random_bool(plan.fail_after)).then(|| {
            self.injected.failures_after.fetch_add(1, Ordering::Relaxed);
            Error::Unavailable("injected: connection lost at commit (08006)".into())
        });
        (delay, before, after)
    }

    async fn faulty<T, F>(&self, renewal: bool, call: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        let (delay, before, after) = self.draw(renewal);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Some(e) = before {
            return Err(e);
        }
        let result = call.await;
        match (result, after) {
            (Ok(_), Some(e)) => Err(e),
            (result, _) => result,
        }
    }
}

#[async_trait]
impl Store for ChaosStore {
    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn describe(&self) -> Result<BackendInfo> {
        self.inner.describe().await
    }
    async fn migrate(&self) -> Result<Vec<String>> {
        self.inner.migrate().await
    }
    async fn pending_migrations(&self) -> Result<Vec<String>> {
        self.inner.pending_migrations().await
    }
    async fn register_template(
        &self,
        t: &NewTemplate,
        now: Timestamp,
    ) -> Result<RegisteredTemplate> {
        self.inner.register_template(t, now).await
    }
    async fn find_template(
        &self,
        namespace: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<StoredTemplate>> {
        self.inner.find_template(namespace, name, version).await
    }
    async fn template_by_id(&self, id: TemplateId) -> Result<Option<StoredTemplate>> {
        self.inner.template_by_id(id).await
    }
    async fn list_templates(&self) -> Result<Vec<StoredTemplate>> {
        self.inner.list_templates().await
    }
    async fn create_tasks(&self, tasks: &[NewTask], now: Timestamp) -> Result<Vec<CreatedTask>> {
        self.inner.create_tasks(tasks, now).await
    }
    async fn task(&self, id: TaskId) -> Result<Option<TaskRecord>> {
        self.inner.task(id).await
    }
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRecord>> {
        self.inner.list_tasks(filter).await
    }
    async fn count_tasks_by_state(&self) -> Result<Vec<(State, i64)>> {
        self.inner.count_tasks_by_state().await
    }
    async fn steps_of_task(&self, task_id: TaskId) -> Result<Vec<StepRecord>> {
        self.inner.steps_of_task(task_id).await
    }
    async fn step(&self, id: StepId) -> Result<Option<StepRecord>> {
        self.inner.step(id).await
    }
    async fn task_transitions(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>> {
        self.inner.task_transitions(task_id).await
    }
    async fn step_transitions_of_task(&self, task_id: TaskId) -> Result<Vec<TransitionRecord>> {
        self.inner.step_transitions_of_task(task_id).await
    }
    async fn current_task_transition(&self, task_id: TaskId) -> Result<Option<TransitionRecord>> {
        self.inner.current_task_transition(task_id).await
    }
    async fn claim_steps(&self, request: &ClaimRequest) -> Result<Vec<ClaimedStep>> {
        self.injected.claims.fetch_add(1, Ordering::Relaxed);
        if self.outage(|p| &mut p.claims_unavailable) {
            return Err(Error::Unavailable("injected outage".into()));
        }
        if self.plan().hide_claims {
            return Ok(Vec::new());
        }
        self.faulty(false, self.inner.claim_steps(request)).await
    }
    async fn complete_and_claim(
        &self,
        outcomes: &[StepOutcome],
        now: Timestamp,
        handoff: Option<&Handoff>,
    ) -> Result<Completion> {
        if self.outage(|p| &mut p.completions_unavailable) {
            return Err(Error::Unavailable("injected outage".into()));
        }
        let plan = self.plan();
        if let Some((step, attempt)) = plan.refused_attempt
            && outcomes
                .iter()
                .any(|o| o.step_id == step && o.attempt == attempt && !o.lease_expired)
        {
            return Err(Error::Database(format!(
                "injected refusal of step {step} attempt {attempt}"
            )));
        }
        if !plan.completion_stall.is_zero() {
            tokio::time::sleep(plan.completion_stall).await;
        }
        let success = outcomes
            .iter()
            .any(|o| matches!(o.result, tasker::store::OutcomeKind::Succeeded { .. }));
        if plan.refuse_successes && success {
            return Err(Error::Database(
                "injected: value too long for type (22001)".into(),
            ));
        }
        self.faulty(false, self.inner.complete_and_claim(outcomes, now, handoff))
            .await
    }
    async fn renew_leases(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Vec<StepId>> {
        self.faulty(true, self.inner.renew_leases(owner, steps, now, expires_at))
            .await
    }
    async fn expired_leases(&self, now: Timestamp, limit: u32) -> Result<Vec<ExpiredLease>> {
        self.faulty(false, self.inner.expired_leases(now, limit))
            .await
    }
    async fn release_leases(&self, owner: &str, now: Timestamp) -> Result<u64> {
        self.faulty(false, self.inner.release_leases(owner, now))
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
        self.faulty(
            false,
            self.inner
                .release_steps(owner, steps, now, ready_at, reason),
        )
        .await
    }
    async fn database_time(&self) -> Result<Timestamp> {
        self.inner.database_time().await
    }
    async fn next_ready_at(&self, filter: &ClaimFilter) -> Result<Option<Timestamp>> {
        self.faulty(false, self.inner.next_ready_at(filter)).await
    }
    async fn outstanding_work(&self) -> Result<OutstandingWork> {
        self.faulty(false, self.inner.outstanding_work()).await
    }
    async fn try_acquire_leadership(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        self.faulty(
            false,
            self.inner
                .try_acquire_leadership(name, owner, now, expires_at),
        )
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
        self.faulty(
            false,
            self.inner
                .advertise_handlers(worker, queue, handlers, now, forget_before),
        )
        .await
    }
    async fn advertised_routes(
        &self,
        wanted: &[HandlerRoute],
        since: Timestamp,
    ) -> Result<Vec<HandlerRoute>> {
        self.faulty(false, self.inner.advertised_routes(wanted, since))
            .await
    }
    async fn release_leadership(&self, name: &str, owner: &str) -> Result<()> {
        self.inner.release_leadership(name, owner).await
    }
    fn wakeups(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.inner.wakeups()
    }
    async fn cancel_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<TaskRecord> {
        self.inner.cancel_task(task_id, now, actor).await
    }
    async fn retry_task(
        &self,
        task_id: TaskId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<TaskRecord> {
        self.inner.retry_task(task_id, now, actor).await
    }
    async fn resolve_step(
        &self,
        step_id: StepId,
        now: Timestamp,
        actor: Option<&serde_json::Value>,
    ) -> Result<StepRecord> {
        self.inner.resolve_step(step_id, now, actor).await
    }
    async fn step_readiness(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<StepReadiness>> {
        self.inner.step_readiness(task_ids, now).await
    }
    async fn task_execution_context(
        &self,
        task_ids: &[TaskId],
        now: Timestamp,
    ) -> Result<Vec<TaskExecutionContext>> {
        self.inner.task_execution_context(task_ids, now).await
    }
    async fn table_counts(&self) -> Result<TableCounts> {
        self.inner.table_counts().await
    }
    async fn seed_completed_tasks(
        &self,
        template_id: TemplateId,
        layout: &StepLayout,
        count: u64,
        now: Timestamp,
    ) -> Result<()> {
        self.inner
            .seed_completed_tasks(template_id, layout, count, now)
            .await
    }
    async fn baseline_queue(&self, jobs: u64, workers: usize) -> Result<BaselineReport> {
        self.inner.baseline_queue(jobs, workers).await
    }
    async fn bare_dag_queue(&self, spec: BareQueueSpec) -> Result<BareQueueReport> {
        self.inner.bare_dag_queue(spec).await
    }
}

/// What a test handler does: sleeps for `ms`, recorded in `recorder`, and stops early (an
/// `Err` to return, the run recorded as stopped) when its attempt is cancelled. The caller
/// finishes the returned run with how it ends.
pub async fn recorded_sleep(
    recorder: &Recorder,
    ctx: &tasker::StepContext,
    ms: u64,
) -> std::result::Result<RunGuard, tasker::StepError> {
    let run = recorder.start(ctx.step_id, ctx.attempt);
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(ms)) => Ok(run),
        _ = ctx.cancellation.cancelled() => {
            run.finish(RunEnd::Stopped);
            Err(tasker::StepError::retryable("stopped"))
        }
    }
}

/// How a handler run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Succeeded,
    Failed,
    /// Dropped or cancelled before it returned.
    Stopped,
}

/// One handler run, in real (monotonic) time.
#[derive(Debug, Clone)]
pub struct Run {
    pub step_id: StepId,
    pub attempt: i32,
    pub start: Instant,
    pub end: Instant,
    pub how: RunEnd,
}

/// Every handler run of a test.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    runs: Arc<Mutex<Vec<Run>>>,
    started: Arc<AtomicU64>,
}

impl Recorder {
    /// Starts recording a run; it ends when the guard is finished or dropped.
    pub fn start(&self, step_id: StepId, attempt: i32) -> RunGuard {
        self.started.fetch_add(1, Ordering::Relaxed);
        RunGuard {
            recorder: self.clone(),
            step_id,
            attempt,
            start: Instant::now(),
            how: RunEnd::Stopped,
        }
    }

    /// Every finished run, in the order they ended.
    pub fn runs(&self) -> Vec<Run> {
        self.runs.lock().unwrap().clone()
    }

    /// Runs started so far, finished or not.
    pub fn runs_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }
}

pub struct RunGuard {
    recorder: Recorder,
    step_id: StepId,
    attempt: i32,
    start: Instant,
    how: RunEnd,
}

impl RunGuard {
    pub fn finish(mut self, how: RunEnd) {
        self.how = how;
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.recorder.runs.lock().unwrap().push(Run {
            step_id: self.step_id,
            attempt: self.attempt,
            start: self.start,
            end: Instant::now(),
            how: self.how,
        });
    }
}

// The service layer's aggregates pass through untouched: the harness exercises the hot path.
#[async_trait]
impl tasker::store::TokenStore for ChaosStore {
    async fn create_token(
        &self,
        token: &tasker::store::NewToken,
        now: Timestamp,
    ) -> Result<tasker::store::TokenRecord> {
        self.inner.create_token(token, now).await
    }
    async fn list_tokens(&self) -> Result<Vec<tasker::store::TokenRecord>> {
        self.inner.list_tokens().await
    }
    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<tasker::store::TokenRecord> {
        self.inner.revoke_token(id, now).await
    }
    async fn token_by_hash(&self, hash: &str) -> Result<Option<tasker::store::TokenRecord>> {
        self.inner.token_by_hash(hash).await
    }
    async fn any_active_token(&self) -> Result<bool> {
        self.inner.any_active_token().await
    }
}

#[async_trait]
impl tasker::store::AnalyticsStore for ChaosStore {
    async fn finished_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket_seconds: i64,
    ) -> Result<Vec<tasker::store::FinishedCount>> {
        self.inner
            .finished_counts(since, until, bucket_seconds)
            .await
    }
    async fn finished_tasks(
        &self,
        query: &tasker::store::FinishedQuery,
    ) -> Result<Vec<tasker::store::FinishedTask>> {
        self.inner.finished_tasks(query).await
    }
    async fn finished_step_samples(
        &self,
        query: &tasker::store::FinishedQuery,
    ) -> Result<Vec<tasker::store::StepSample>> {
        self.inner.finished_step_samples(query).await
    }
    async fn count_runnable_steps(&self, now: Timestamp, cap: u32) -> Result<u64> {
        self.inner.count_runnable_steps(now, cap).await
    }
}
