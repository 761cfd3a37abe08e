//! Micro-benchmarks of the pure core: template validation of a large DAG, readiness
//! bookkeeping over a task's steps, and backoff.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use tasker_model::template::TemplateSpec;
use tasker_model::{Backoff, State, StepRecord, TaskRecord, Template, readiness};

/// A layered DAG of `n` steps: each step depends on up to three steps of the previous layer.
fn wide_dag_spec(n: usize, width: usize) -> TemplateSpec {
    let mut yaml = String::from("namespace: bench\nname: big\nversion: 1.0.0\nsteps:\n");
    for i in 0..n {
        let layer = i / width;
        yaml.push_str(&format!("  - name: s{i}\n    handler: noop\n"));
        if layer > 0 {
            let prev = (layer - 1) * width;
            let deps: Vec<String> = (0..3)
                .map(|k| format!("s{}", prev + (i + k) % width))
                .collect();
            let mut deps = deps;
            deps.dedup();
            yaml.push_str(&format!("    depends_on: [{}]\n", deps.join(", ")));
        }
    }
    serde_saphyr::from_str(&yaml).expect("generated template parses")
}

fn bench_validation(c: &mut Criterion) {
    let spec = wide_dag_spec(10_000, 100);
    c.bench_function("validate 10,000-step DAG", |b| {
        b.iter(|| Template::from_spec(black_box(spec.clone())).expect("valid"))
    });
}

fn bench_readiness(c: &mut Criterion) {
    let template = Template::from_spec(wide_dag_spec(1_000, 50)).expect("valid");
    let now = chrono::Utc::now();
    let task = TaskRecord {
        id: 1,
        template_id: 1,
        namespace: "bench".into(),
        name: "big".into(),
        version: "1.0.0".into(),
        state: State::InProgress,
        context: serde_json::Value::Null,
        identity_hash: None,
        idempotency_key: None,
        traceparent: None,
        steps_total: 1_000,
        steps_remaining: 500,
        steps_failed: 0,
        created_at: now,
        updated_at: now,
        completed_at: None,
    };
    let steps: Vec<StepRecord> = template
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepRecord {
            id: i as i64,
            task_id: 1,
            name: s.name.clone(),
            handler: s.handler.clone(),
            queue: s.queue.clone(),
            state: if i < 500 {
                State::Complete
            } else {
                State::Pending
            },
            attempts: i32::from(i < 500),
            max_attempts: 3,
            retryable: true,
            retry_limit: 3,
            total_parents: s.parents.len() as i32,
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
            parents: s.depends_on.clone(),
            created_at: now,
            updated_at: now,
        })
        .collect();
    c.bench_function("readiness of a 1,000-step task", |b| {
        b.iter(|| {
            let r = readiness::step_readiness(black_box(&task), black_box(&steps), now);
            readiness::task_execution_context(1, &r)
        })
    });
}

fn bench_backoff(c: &mut Criterion) {
    let backoff = Backoff::default();
    let mut rng = StdRng::seed_from_u64(3);
    c.bench_function("backoff delay", |b| {
        b.iter(|| backoff.delay(black_box(4), &mut rng))
    });
}

criterion_group!(benches, bench_validation, bench_readiness, bench_backoff);
criterion_main!(benches);
