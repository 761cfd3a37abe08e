//! Store-level throughput on PostgreSQL: create N diamond tasks, then W workers claim and
//! complete batches until nothing is left. Prints steps per second for each phase.
//!
//! `TASKER_DATABASE_URL=postgres://... cargo run -p tasker-postgres --release --example throughput -- 50000 4 100`
//! (tasks, workers, batch). It works in a schema of its own, `tasker_throughput`, dropped first.

use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tasker_postgres::{PgOptions, PostgresStore};
use tasker_store::{
    ClaimFilter, ClaimRequest, NewStep, NewTask, NewTemplate, OutcomeKind, StepLayout, StepOutcome,
    Store,
};

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn arg(n: usize, default: usize) -> Result<usize, Failure> {
    Ok(match std::env::args().nth(n) {
        Some(text) => text.parse()?,
        None => default,
    })
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let url = std::env::var("TASKER_DATABASE_URL")
        .map_err(|_| "set TASKER_DATABASE_URL to a postgres:// URL")?;
    let (tasks, workers, batch) = (arg(1, 50_000)?, arg(2, 4)?, arg(3, 100)?);
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    admin
        .batch_execute("DROP SCHEMA IF EXISTS tasker_throughput CASCADE")
        .await?;
    let store = Arc::new(
        PostgresStore::connect_with(
            &url,
            PgOptions {
                schema: Some("tasker_throughput".into()),
                pool_size: workers + 2,
                ..PgOptions::default()
            },
        )
        .await?,
    );
    store.migrate().await?;
    let now = chrono::Utc::now();
    let template_id = store
        .register_template(
            &NewTemplate {
                namespace: "bench".into(),
                name: "diamond".into(),
                version: "1.0.0".into(),
                description: None,
                definition: json!({}),
            },
            now,
        )
        .await?
        .id;
    let step = |name: &str| NewStep {
        name: name.into(),
        handler: "noop".into(),
        queue: None,
        inputs: None,
        retryable: true,
        max_attempts: 3,
    };
    let layout = Arc::new(StepLayout {
        steps: vec![step("a"), step("b"), step("c"), step("d")],
        edges: vec![(0, 1), (0, 2), (1, 3), (2, 3)],
    });

    let started = Instant::now();
    for chunk in 0..tasks.div_ceil(1_000) {
        let n = (tasks - chunk * 1_000).min(1_000);
        let batch: Vec<NewTask> = (0..n)
            .map(|i| NewTask {
                template_id,
                context: json!({ "i": i }),
                identity_hash: None,
                idempotency_key: None,
                traceparent: None,
                layout: Arc::clone(&layout),
            })
            .collect();
        store.create_tasks(&batch, now).await?;
    }
    let created = started.elapsed();
    println!(
        "created {tasks} tasks ({} steps) in {created:.2?}: {:.0} steps/s",
        tasks * 4,
        (tasks * 4) as f64 / created.as_secs_f64()
    );

    let started = Instant::now();
    let mut handles = Vec::new();
    for worker in 0..workers {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            let owner = format!("bench-{worker}");
            let mut done = 0usize;
            loop {
                let now = chrono::Utc::now();
                let claimed = store
                    .claim_steps(&ClaimRequest {
                        owner: owner.clone(),
                        limit: batch as u32,
                        now,
                        lease_expires_at: now + chrono::Duration::seconds(60),
                        only_task: None,
                        filter: ClaimFilter::any_in_process(),
                    })
                    .await?;
                if claimed.is_empty() {
                    let work = store.outstanding_work().await?;
                    if !work.scheduled && !work.running {
                        return Ok::<usize, tasker_store::Error>(done);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    continue;
                }
                let outcomes: Vec<StepOutcome> = claimed
                    .iter()
                    .map(|c| StepOutcome {
                        step_id: c.step_id,
                        task_id: c.task_id,
                        owner: owner.clone(),
                        attempt: c.attempt,
                        lease_expired: false,
                        result: OutcomeKind::Succeeded { result: json!({}) },
                    })
                    .collect();
                store.complete_steps(&outcomes, chrono::Utc::now()).await?;
                done += claimed.len();
            }
        }));
    }
    let mut total = 0;
    for handle in handles {
        total += handle.await??;
    }
    let ran = started.elapsed();
    println!(
        "ran {total} steps with {workers} workers, batch {batch}, in {ran:.2?}: {:.0} steps/s",
        total as f64 / ran.as_secs_f64()
    );
    // The same machine's ceiling right now: a bare job queue, no DAG, no history.
    let baseline = store.baseline_queue(total as u64, workers).await?;
    println!(
        "baseline queue: {} jobs with {workers} workers in {:.2?}: {:.0} jobs/s",
        baseline.completed,
        baseline.run_time,
        baseline.completed as f64 / baseline.run_time.as_secs_f64()
    );
    Ok(())
}
