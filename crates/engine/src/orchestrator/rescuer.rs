//! Turns the expired leases of dead (or cut-off) orchestrators into failed attempts, with the
//! same retry rules as any failure, so their steps run again. Runs while this orchestrator is
//! the elected rescuer; the others only keep trying to be elected.

use super::completer::apply_results;
use super::executor::{AttemptMeta, Report};
use super::outcome::{AttemptFacts, Failure, failed};
use super::{Shared, leadership};
use crate::telemetry::metrics;
use std::collections::HashSet;
use std::sync::Arc;
use tasker_model::RetryPolicy;
use tasker_store::{CompletionResult, ExpiredLease, StepOutcome};

const BATCH: u32 = 500;

pub(crate) async fn run(shared: Arc<Shared>) {
    if shared.config.only_task.is_some() {
        // An orchestrator that runs one task leaves everyone else's leases alone.
        return;
    }
    let mut ticker = tokio::time::interval(shared.config.rescue_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut leader = false;
    loop {
        ticker.tick().await;
        leader = leadership::lead(&shared, leadership::RESCUER, leader).await;
        // A clock running ahead would rescue leases that have not expired yet.
        if !leader || !shared.clock_ok.load(std::sync::atomic::Ordering::Acquire) {
            continue;
        }
        match rescue(&shared).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(recovered = n, "recovered expired leases");
                shared.progress.notify_one();
            }
            Err(e) => {
                metrics::engine_error(&e);
                tracing::warn!(error = %e, "cannot recover expired leases");
            }
        }
    }
}

/// One pass; returns how many leases were recovered.
pub(crate) async fn rescue(shared: &Shared) -> crate::Result<usize> {
    let engine = &shared.engine;
    let expired = engine.store().expired_leases(engine.now(), BATCH).await?;
    if expired.is_empty() {
        return Ok(0);
    }
    let mut reports = Vec::with_capacity(expired.len());
    for lease in expired {
        let (policy, meta) = policy_of(shared, &lease).await;
        reports.push(report(shared, lease, &policy, meta));
    }
    let outcomes: Vec<StepOutcome> = reports.iter().map(|r| r.outcome.clone()).collect();
    let results = engine
        .store()
        .complete_steps(&outcomes, engine.now())
        .await?;
    add_finished_tasks(shared, &mut reports, &results).await;
    apply_results(shared, &reports, &results, &HashSet::new(), true);
    Ok(results.iter().filter(|r| r.applied).count())
}

/// The step's retry policy and metric labels, from its template.
async fn policy_of(shared: &Shared, lease: &ExpiredLease) -> (RetryPolicy, AttemptMeta) {
    let mut meta = AttemptMeta::unknown(None, None);
    let policy = match shared.engine.template_by_id(lease.template_id).await {
        Ok(cached) => {
            meta.template = cached.labels.clone();
            meta.handler = cached.handler_label(&lease.name);
            cached
                .template
                .steps
                .iter()
                .find(|s| s.name == lease.name)
                .map(|s| s.retry)
                .unwrap_or_default()
        }
        Err(e) => {
            metrics::engine_error(&e);
            tracing::warn!(error = %e, step_id = lease.step_id, "cannot load the template of a rescued step; using the default retry policy");
            RetryPolicy::default()
        }
    };
    (policy, meta)
}

/// Expired leases say nothing of their tasks: for the few tasks a rescue finished, reads
/// when they were created and their trace context, for their end-to-end time and trace.
async fn add_finished_tasks(shared: &Shared, reports: &mut [Report], results: &[CompletionResult]) {
    for (report, result) in reports.iter_mut().zip(results) {
        if !result.applied || result.task_finished.is_none() {
            continue;
        }
        match shared.engine.store().task(result.task_id).await {
            Ok(Some(task)) => {
                report.meta.task_created_at = Some(task.created_at);
                report.meta.traceparent = task.traceparent.map(Arc::from);
            }
            Ok(None) => {}
            Err(e) => {
                metrics::database_error(&e);
                tracing::debug!(error = %e, task_id = result.task_id, "cannot read a task a rescue finished; its end-to-end time is not counted");
            }
        }
    }
}

fn report(shared: &Shared, lease: ExpiredLease, policy: &RetryPolicy, meta: AttemptMeta) -> Report {
    let engine = &shared.engine;
    let failure = Failure::LeaseExpired {
        owner: lease.owner.clone(),
    };
    let facts = AttemptFacts {
        attempt: lease.attempt,
        max_attempts: lease.max_attempts,
        retryable: lease.retryable,
        policy,
    };
    tracing::warn!(task_id = lease.task_id, step_id = lease.step_id, step = %lease.name, owner = %lease.owner, attempt = lease.attempt, "lease expired");
    Report {
        outcome: StepOutcome {
            step_id: lease.step_id,
            task_id: lease.task_id,
            owner: lease.owner,
            attempt: lease.attempt,
            lease_expired: true,
            result: failed(&failure, facts, engine.now(), engine.config()),
        },
        name: lease.name,
        slot: None,
        meta,
    }
}
