//! A store that fails on purpose: it delegates to a real one, except for the faults a test
//! injects into the orchestrator's hot path.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::Mutex;
use tasker::model::{
    State, StepId, StepReadiness, StepRecord, TaskExecutionContext, TaskId, TaskRecord, TemplateId,
    Timestamp, TransitionRecord,
};
use tasker::store::{
    BackendInfo, BaselineReport, Capabilities, ClaimRequest, ClaimedStep, Completion, CreatedTask,
    Error, ExpiredLease, Handoff, NewTask, NewTemplate, OutstandingWork, RegisteredTemplate,
    Result, StepLayout, StepOutcome, Store, StoredTemplate, TableCounts, TaskFilter,
};

#[derive(Default)]
pub struct Faults {
    /// The next this many claims fail as if the database were down.
    pub claims_unavailable: u32,
    /// The next this many outcome writes fail as if the database were down.
    pub completions_unavailable: u32,
    /// Owner outcomes (not rescues) of this step and attempt are refused as a database error.
    pub refused_attempt: Option<(StepId, i32)>,
}

pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Mutex<Faults>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>, faults: Faults) -> Self {
        Self {
            inner,
            faults: Mutex::new(faults),
        }
    }

    pub fn set(&self, faults: Faults) {
        *self.faults.lock().unwrap() = faults;
    }

    fn take(counter: &mut u32) -> bool {
        let hit = *counter > 0;
        *counter = counter.saturating_sub(1);
        hit
    }
}

fn unavailable() -> Error {
    Error::Unavailable("injected outage".into())
}

#[async_trait]
impl Store for FaultyStore {
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
        ns: &str,
        name: &str,
        v: Option<&str>,
    ) -> Result<Option<StoredTemplate>> {
        self.inner.find_template(ns, name, v).await
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
        if Self::take(&mut self.faults.lock().unwrap().claims_unavailable) {
            return Err(unavailable());
        }
        self.inner.claim_steps(request).await
    }
    async fn complete_and_claim(
        &self,
        outcomes: &[StepOutcome],
        now: Timestamp,
        handoff: Option<&Handoff>,
    ) -> Result<Completion> {
        {
            let mut faults = self.faults.lock().unwrap();
            if Self::take(&mut faults.completions_unavailable) {
                return Err(unavailable());
            }
            if let Some((step, attempt)) = faults.refused_attempt
                && outcomes
                    .iter()
                    .any(|o| o.step_id == step && o.attempt == attempt && !o.lease_expired)
            {
                return Err(Error::Database(format!(
                    "injected refusal of step {step} attempt {attempt}"
                )));
            }
        }
        self.inner.complete_and_claim(outcomes, now, handoff).await
    }
    async fn renew_leases(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Vec<StepId>> {
        self.inner.renew_leases(owner, steps, now, expires_at).await
    }
    async fn expired_leases(&self, now: Timestamp, limit: u32) -> Result<Vec<ExpiredLease>> {
        self.inner.expired_leases(now, limit).await
    }
    async fn release_leases(&self, owner: &str, now: Timestamp) -> Result<u64> {
        self.inner.release_leases(owner, now).await
    }
    async fn release_steps(
        &self,
        owner: &str,
        steps: &[(StepId, i32)],
        now: Timestamp,
        ready_at: Timestamp,
        reason: &str,
    ) -> Result<Vec<StepId>> {
        self.inner
            .release_steps(owner, steps, now, ready_at, reason)
            .await
    }
    async fn database_time(&self) -> Result<Timestamp> {
        self.inner.database_time().await
    }
    async fn next_ready_at(&self) -> Result<Option<Timestamp>> {
        self.inner.next_ready_at().await
    }
    async fn outstanding_work(&self) -> Result<OutstandingWork> {
        self.inner.outstanding_work().await
    }
    async fn try_acquire_leadership(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        self.inner
            .try_acquire_leadership(name, owner, now, expires_at)
            .await
    }
    async fn release_leadership(&self, name: &str, owner: &str) -> Result<()> {
        self.inner.release_leadership(name, owner).await
    }
    fn wakeups(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.inner.wakeups()
    }
    async fn cancel_task(&self, task_id: TaskId, now: Timestamp) -> Result<TaskRecord> {
        self.inner.cancel_task(task_id, now).await
    }
    async fn retry_task(&self, task_id: TaskId, now: Timestamp) -> Result<TaskRecord> {
        self.inner.retry_task(task_id, now).await
    }
    async fn resolve_step(&self, step_id: StepId, now: Timestamp) -> Result<StepRecord> {
        self.inner.resolve_step(step_id, now).await
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
}
