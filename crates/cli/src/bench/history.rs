//! History: the hot queries against a database holding H finished tasks (bulk-seeded with a
//! real run's shape), for growing H. Their cost should depend on the work at hand, not on H.

use super::analytics::{self, AnalyticsColumn};
use super::scale::Target;
use super::stats::{Latency, Rng, ms};
use super::{Plan, database, progress};
use anyhow::{Context as _, bail};
use serde::Serialize;
use std::time::Instant;
use tasker::store::{ClaimFilter, ClaimRequest, StepLayout};
use tasker::{CreateTask, Engine, State, TemplateRef};

/// Tasks kept pending (their root steps ready) for the claim probe.
const PENDING: u64 = 1_000;
const CLAIM_BATCH: u32 = 64;
const OWNER: &str = "tasker-bench-history";
/// Random ids that may miss (sequences can skip) before the probe gives up.
const MAX_MISSES: usize = 1_000;
/// Times each analytics call is timed per column (each reads up to its cap of tasks).
const ANALYTICS_SAMPLES: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct HistoryColumn {
    /// Finished tasks in the database.
    pub history: u64,
    /// Seeding this column's new tasks.
    pub seed_ms: f64,
    pub seeded_tasks_per_sec: f64,
    pub step_readiness: Latency,
    pub task_execution_context: Latency,
    pub claim_batch: Latency,
    pub create_task: Latency,
    pub current_state: Latency,
    /// The analytics over this column's history.
    pub analytics: AnalyticsColumn,
}

/// Picks one query's latency out of a column.
pub type Pick = fn(&HistoryColumn) -> Latency;

/// The measured queries, in report order: (name, its latency in a column).
pub const QUERIES: [(&str, Pick); 5] = [
    ("step readiness (1 task)", |c| c.step_readiness),
    ("execution context (1 task)", |c| c.task_execution_context),
    ("claim 64 steps", |c| c.claim_batch),
    ("create one task", |c| c.create_task),
    ("task + current transition", |c| c.current_state),
];

#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub query: &'static str,
    /// p50 at the largest history over p50 at the smallest.
    pub p50_ratio: f64,
    pub target: Target,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub template: String,
    pub pending_tasks: u64,
    /// Random ids probed that named no task (sequences may skip); they are not timed.
    pub missed_ids: usize,
    pub columns: Vec<HistoryColumn>,
    pub ratios: Vec<Ratio>,
    /// p50 of readiness and execution context at the largest history (PostgreSQL: < 1 ms).
    pub absolute: Vec<Ratio>,
    pub checks: Vec<String>,
    pub checks_passed: bool,
}

pub async fn run(url: &str, plan: &Plan) -> anyhow::Result<HistoryReport> {
    let fresh = database::fresh(url).await?;
    let result = measure(&fresh.engine, plan).await;
    fresh.cleanup().await?;
    result.context("history")
}

async fn measure(engine: &Engine, plan: &Plan) -> anyhow::Result<HistoryReport> {
    let reference = database::template(engine, &plan.template).await?;
    let (stored, layout) = engine.template_layout(&reference).await?;
    let backend = engine.store().backend_name();
    let samples = plan.samples * 5;
    let mut sizes = plan.history.clone();
    sizes.sort_unstable();
    sizes.dedup();

    let mut seeded = 0u64;
    let first_seeding = engine.clock().now();
    let analytics_samples = if plan.smoke { 1 } else { ANALYTICS_SAMPLES };
    let mut columns = Vec::with_capacity(sizes.len());
    let mut checks = Vec::new();
    let mut probe = Probe::new(engine, reference.clone());
    for (i, &h) in sizes.iter().enumerate() {
        progress(plan, &format!("history: seeding up to {h} finished tasks"));
        let started = Instant::now();
        engine
            .store()
            .seed_completed_tasks(stored.id, &layout, h - seeded, engine.clock().now())
            .await?;
        let seed_time = started.elapsed();
        let added = h - seeded;
        seeded = h;
        if i == 0 {
            super::scale::create(engine, &reference, PENDING, probe.tag).await?;
        }
        checks = check_history(engine, &layout, seeded).await?;
        progress(
            plan,
            &format!(
                "  seeded {added} in {:.1} s; measuring {samples} samples per query",
                seed_time.as_secs_f64()
            ),
        );
        probe.max_id = probe.newest_id().await?;
        let (analytics, analytics_checks) =
            analytics::measure(engine, first_seeding, seeded, analytics_samples).await?;
        checks.extend(analytics_checks);
        columns.push(HistoryColumn {
            history: h,
            seed_ms: ms(seed_time),
            seeded_tasks_per_sec: added as f64 / seed_time.as_secs_f64().max(1e-9),
            step_readiness: probe.sample(samples, Query::Readiness).await?,
            task_execution_context: probe.sample(samples, Query::Context).await?,
            claim_batch: probe.sample(samples, Query::Claim).await?,
            create_task: probe.sample(samples, Query::Create).await?,
            current_state: probe.sample(samples, Query::CurrentState).await?,
            analytics,
        });
    }
    checks.push(format!(
        "every probe found its task or steps ({} random ids named no task and were skipped)",
        probe.misses
    ));
    let (ratios, absolute) = targets(&columns, backend);
    Ok(HistoryReport {
        template: reference.to_string(),
        pending_tasks: PENDING,
        missed_ids: probe.misses,
        columns,
        ratios,
        absolute,
        checks,
        checks_passed: true,
    })
}

fn targets(columns: &[HistoryColumn], backend: &str) -> (Vec<Ratio>, Vec<Ratio>) {
    let (Some(first), Some(last)) = (columns.first(), columns.last()) else {
        return (Vec::new(), Vec::new());
    };
    let queries = QUERIES;
    let ratios = queries
        .iter()
        .map(|&(query, get)| {
            let ratio = get(last).p50_ms / get(first).p50_ms.max(1e-9);
            Ratio {
                query,
                p50_ratio: ratio,
                target: Target {
                    text: "<= 1.5x".into(),
                    limit_ms: 1.5,
                    met: ratio <= 1.5,
                },
            }
        })
        .collect();
    let absolute = if backend == "postgres" {
        queries[..2]
            .iter()
            .map(|&(query, get)| {
                let p50 = get(last).p50_ms;
                Ratio {
                    query,
                    p50_ratio: p50,
                    target: Target {
                        text: "p50 < 1 ms".into(),
                        limit_ms: 1.0,
                        met: p50 < 1.0,
                    },
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    (ratios, absolute)
}

/// The seeded tasks read back as finished runs, and the history has one current transition
/// per task and per step.
async fn check_history(
    engine: &Engine,
    layout: &StepLayout,
    seeded: u64,
) -> anyhow::Result<Vec<String>> {
    let counts = engine.store().table_counts().await?;
    let steps = seeded as i64 * layout.steps.len() as i64;
    let mut wrong = Vec::new();
    if counts.tasks_in(State::Complete) != seeded as i64 {
        wrong.push(format!(
            "{} complete tasks, expected {seeded}",
            counts.tasks_in(State::Complete)
        ));
    }
    if counts.steps_in(State::Complete) != steps {
        wrong.push(format!(
            "{} complete steps, expected {steps}",
            counts.steps_in(State::Complete)
        ));
    }
    if counts.current_task_transitions != counts.tasks() {
        wrong.push(format!(
            "{} current task transitions for {} tasks",
            counts.current_task_transitions,
            counts.tasks()
        ));
    }
    if counts.current_step_transitions != counts.steps() {
        wrong.push(format!(
            "{} current step transitions for {} steps",
            counts.current_step_transitions,
            counts.steps()
        ));
    }
    if counts.edges != counts.tasks() * layout.edges.len() as i64 {
        wrong.push(format!(
            "{} edges for {} tasks",
            counts.edges,
            counts.tasks()
        ));
    }
    if !wrong.is_empty() {
        bail!("the seeded history is wrong: {}", wrong.join("; "));
    }
    Ok(vec![
        format!("{seeded} seeded tasks and {steps} steps read back complete"),
        "one current transition per task and per step".to_owned(),
    ])
}

/// p50 of step readiness and of execution context over random tasks of what the database holds
/// now (a finished scale run, for one): the hot reads, measured where a run left its history.
pub async fn hot_reads(
    engine: &Engine,
    reference: TemplateRef,
    samples: usize,
) -> anyhow::Result<(Latency, Latency)> {
    let newest = engine
        .list_tasks(tasker::TaskFilter {
            limit: 1,
            ..tasker::TaskFilter::default()
        })
        .await?;
    let Some(newest) = newest.first() else {
        bail!("no task in the database to read");
    };
    let mut probe = Probe::new(engine, reference);
    probe.max_id = newest.id;
    Ok((
        probe.sample(samples, Query::Readiness).await?,
        probe.sample(samples, Query::Context).await?,
    ))
}

#[derive(Clone, Copy)]
enum Query {
    Readiness,
    Context,
    Claim,
    Create,
    CurrentState,
}

struct Probe<'a> {
    engine: &'a Engine,
    reference: TemplateRef,
    /// What an orchestrator of this engine claims: every handler of its registry (the
    /// built-ins here), in-process.
    filter: ClaimFilter,
    tag: i64,
    rng: Rng,
    max_id: i64,
    misses: usize,
    created: u64,
}

impl<'a> Probe<'a> {
    fn new(engine: &'a Engine, reference: TemplateRef) -> Probe<'a> {
        Probe {
            engine,
            reference,
            filter: ClaimFilter::in_process(engine.handlers().names()),
            tag: engine.clock().now().timestamp_micros(),
            rng: Rng::new(),
            max_id: 1,
            misses: 0,
            created: 0,
        }
    }

    /// The newest task's id: ids below it are probed at random.
    async fn newest_id(&mut self) -> anyhow::Result<i64> {
        let context =
            serde_json::json!({ "bench_run": self.tag, "probe": "newest" , "n": self.created});
        self.created += 1;
        let created = self
            .engine
            .create_task(CreateTask::new(self.reference.clone(), context))
            .await?;
        Ok(created.id)
    }

    fn missed(&mut self, id: i64) -> anyhow::Result<()> {
        self.misses += 1;
        if self.misses > MAX_MISSES {
            bail!("more than {MAX_MISSES} probed task ids were not found (last {id})");
        }
        Ok(())
    }

    async fn sample(&mut self, samples: usize, query: Query) -> anyhow::Result<Latency> {
        let mut measured = Vec::with_capacity(samples);
        while measured.len() < samples {
            let id = self.rng.one_to(self.max_id as u64) as i64;
            let now = self.engine.clock().now();
            let store = self.engine.store();
            let started = Instant::now();
            let found = match query {
                Query::Readiness => !store.step_readiness(&[id], now).await?.is_empty(),
                Query::Context => !store.task_execution_context(&[id], now).await?.is_empty(),
                Query::CurrentState => {
                    let task = store.task(id).await?;
                    let current = store.current_task_transition(id).await?;
                    task.is_some() && current.is_some()
                }
                Query::Create => {
                    let context = serde_json::json!({ "bench_run": self.tag, "n": self.created });
                    self.created += 1;
                    self.engine
                        .create_task(CreateTask::new(self.reference.clone(), context))
                        .await?;
                    true
                }
                Query::Claim => {
                    let request = ClaimRequest {
                        owner: OWNER.into(),
                        limit: CLAIM_BATCH,
                        now,
                        lease_expires_at: now + chrono::Duration::seconds(60),
                        only_task: None,
                        filter: self.filter.clone(),
                    };
                    let claimed = store.claim_steps(&request).await?;
                    let elapsed = started.elapsed();
                    // Put them back (not timed), so the pool of runnable steps stays the same.
                    store.release_leases(OWNER, now).await?;
                    if claimed.is_empty() {
                        bail!("the claim probe found no runnable step among the pending tasks");
                    }
                    measured.push(ms(elapsed));
                    continue;
                }
            };
            let elapsed = started.elapsed();
            if found {
                measured.push(ms(elapsed));
            } else {
                self.missed(id)?;
            }
        }
        Ok(Latency::of(&measured))
    }
}
