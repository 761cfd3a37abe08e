//! The hot path against a real server: create, claim, complete, in batches and concurrently.
//! Each test works in a schema of its own.

mod common;

use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use tasker_model::readiness::{step_readiness, task_execution_context};
use tasker_model::{State, TaskId, Timestamp};
use tasker_store::{
    ClaimFilter, ClaimRequest, ClaimedStep, NewStep, NewTask, NewTemplate, OutcomeKind, StepLayout,
    StepOutcome, Store,
};

fn t0() -> Timestamp {
    chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("valid time")
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn diamond() -> Arc<StepLayout> {
    let step = |name: &str| NewStep {
        name: name.into(),
        handler: "noop".into(),
        queue: None,
        inputs: Some(json!({ "step": name })),
        retryable: true,
        max_attempts: 3,
    };
    Arc::new(StepLayout {
        steps: vec![step("a"), step("b"), step("c"), step("d")],
        edges: vec![(0, 1), (0, 2), (1, 3), (2, 3)],
    })
}

async fn template(store: &dyn Store) -> i64 {
    store
        .register_template(
            &NewTemplate {
                namespace: "tests".into(),
                name: "diamond".into(),
                version: "1.0.0".into(),
                description: None,
                definition: json!({ "name": "diamond" }),
            },
            t0(),
        )
        .await
        .expect("register")
        .id
}

fn task(template_id: i64, identity: Option<&str>) -> NewTask {
    NewTask {
        template_id,
        context: json!({ "n": 1 }),
        identity_hash: identity.map(str::to_owned),
        idempotency_key: None,
        traceparent: None,
        layout: diamond(),
    }
}

async fn claim(store: &dyn Store, owner: &str, limit: u32, now: Timestamp) -> Vec<ClaimedStep> {
    store
        .claim_steps(&ClaimRequest {
            owner: owner.into(),
            limit,
            now,
            lease_expires_at: now + secs(60),
            only_task: None,
            filter: ClaimFilter::any_in_process(),
        })
        .await
        .expect("claim")
}

fn outcome(claimed: &ClaimedStep, owner: &str, result: OutcomeKind) -> StepOutcome {
    StepOutcome {
        step_id: claimed.step_id,
        task_id: claimed.task_id,
        owner: owner.into(),
        attempt: claimed.attempt,
        lease_expired: false,
        result,
    }
}

fn ok(claimed: &ClaimedStep) -> StepOutcome {
    outcome(
        claimed,
        "w",
        OutcomeKind::Succeeded {
            result: json!({ "by": claimed.name }),
        },
    )
}

fn failed(claimed: &ClaimedStep, retry_at: Option<Timestamp>) -> StepOutcome {
    outcome(
        claimed,
        "w",
        OutcomeKind::Failed {
            error: "boom".into(),
            retry_at,
            backoff_request_seconds: None,
            metadata: json!({ "backoff_ms": 1000 }),
        },
    )
}

/// History chains, SQL readiness = model readiness, and the fast path = the model.
async fn check(store: &dyn Store, task_id: TaskId, now: Timestamp) {
    let task = store.task(task_id).await.expect("task").expect("exists");
    let steps = store.steps_of_task(task_id).await.expect("steps");
    let history = store.task_transitions(task_id).await.expect("history");
    for (i, row) in history.iter().enumerate() {
        assert_eq!(row.sort_key, i as i32 + 1);
        assert_eq!(row.most_recent, i + 1 == history.len());
    }
    assert_eq!(history.last().map(|t| t.to_state), Some(task.state));
    let step_history = store
        .step_transitions_of_task(task_id)
        .await
        .expect("steps");
    for step in &steps {
        let rows: Vec<_> = step_history
            .iter()
            .filter(|t| t.owner_id == step.id)
            .collect();
        assert_eq!(
            rows.iter().filter(|t| t.most_recent).count(),
            1,
            "{}",
            step.name
        );
        assert_eq!(
            rows.last().map(|t| t.to_state),
            Some(step.state),
            "{}",
            step.name
        );
    }
    let model = step_readiness(&task, &steps, now);
    let sql = store
        .step_readiness(&[task_id], now)
        .await
        .expect("readiness");
    assert_eq!(sql, model);
    for (step, r) in steps.iter().zip(&model) {
        let fast = step.ready_at.is_some_and(|at| at <= now);
        assert_eq!(fast, r.ready_for_execution, "step {}", step.name);
    }
    let context = store
        .task_execution_context(&[task_id], now)
        .await
        .expect("context");
    assert_eq!(context, vec![task_execution_context(task_id, &model)]);
}

#[tokio::test]
async fn a_diamond_runs_to_completion_in_batches() {
    let Some(store) = common::fresh_store("a_diamond_runs_to_completion_in_batches").await else {
        return;
    };
    let store: &dyn Store = &*store;
    let template_id = template(store).await;
    let created = store
        .create_tasks(&[task(template_id, None), task(template_id, None)], t0())
        .await
        .expect("create");
    assert!(created.iter().all(|c| c.created));
    let ids: Vec<TaskId> = created.iter().map(|c| c.id).collect();
    check(store, ids[0], t0()).await;

    let roots = claim(store, "w", 10, t0()).await;
    assert_eq!(roots.len(), 2);
    assert!(
        roots
            .iter()
            .all(|c| c.name == "a" && c.task_started && c.attempt == 1)
    );
    let now = t0() + secs(1);
    let done = store
        .complete_steps(&roots.iter().map(ok).collect::<Vec<_>>(), now)
        .await
        .expect("complete");
    assert!(
        done.iter()
            .all(|r| r.applied && r.released_steps.len() == 2)
    );
    check(store, ids[0], now).await;

    let middle = claim(store, "w", 10, now).await;
    assert_eq!(middle.len(), 4);
    assert_eq!(
        middle[0].parent_results,
        vec![("a".into(), json!({ "by": "a" }))]
    );
    // Both parents of each join complete in one batch: the join is released exactly once.
    let done = store
        .complete_steps(&middle.iter().map(ok).collect::<Vec<_>>(), now)
        .await
        .expect("complete");
    let released: Vec<i64> = done.iter().flat_map(|r| r.released_steps.clone()).collect();
    assert_eq!(released.len(), 2);
    assert_eq!(released.iter().collect::<HashSet<_>>().len(), 2);

    let joins = claim(store, "w", 10, now).await;
    assert_eq!(joins.len(), 2);
    assert_eq!(joins[0].parent_results.len(), 2);
    let done = store
        .complete_steps(&joins.iter().map(ok).collect::<Vec<_>>(), now)
        .await
        .expect("complete");
    assert!(
        done.iter()
            .all(|r| r.task_finished == Some(State::Complete))
    );
    for &id in &ids {
        let record = store.task(id).await.expect("task").expect("exists");
        assert_eq!((record.state, record.steps_remaining), (State::Complete, 0));
        assert_eq!(record.completed_at, Some(now));
        check(store, id, now).await;
    }
    assert!(!store.outstanding_work().await.expect("work").scheduled);
}

#[tokio::test]
async fn identities_deduplicate_within_a_batch_and_across_calls() {
    let Some(store) = common::fresh_store("identities_deduplicate").await else {
        return;
    };
    let template_id = template(&*store).await;
    let first = store
        .create_tasks(
            &[
                task(template_id, Some("x")),
                task(template_id, Some("x")),
                task(template_id, None),
            ],
            t0(),
        )
        .await
        .expect("create");
    assert!(first[0].created && !first[1].created && first[2].created);
    assert_eq!(first[0].id, first[1].id);
    let again = store
        .create_tasks(
            &[task(template_id, Some("y")), task(template_id, Some("x"))],
            t0(),
        )
        .await
        .expect("create");
    assert!(again[0].created);
    assert_eq!((again[1].id, again[1].created), (first[0].id, false));
    // Only the created tasks have steps: 3 tasks x 1 root each.
    assert_eq!(claim(&*store, "w", 100, t0()).await.len(), 3);
}

#[tokio::test]
async fn racing_creators_of_one_identity_agree_on_the_task() {
    let Some(store) = common::fresh_store("racing_creators").await else {
        return;
    };
    let template_id = template(&*store).await;
    let mut handles = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            store
                .create_tasks(&[task(template_id, Some("same"))], t0())
                .await
        }));
    }
    let mut ids = HashSet::new();
    let mut created = 0;
    for handle in handles {
        let result = handle.await.expect("join").expect("create");
        ids.insert(result[0].id);
        created += usize::from(result[0].created);
    }
    assert_eq!((ids.len(), created), (1, 1));
}

#[tokio::test]
async fn stale_and_duplicate_outcomes_are_fenced_out() {
    let Some(store) = common::fresh_store("fenced_out").await else {
        return;
    };
    let template_id = template(&*store).await;
    store
        .create_tasks(&[task(template_id, None)], t0())
        .await
        .expect("create");
    let a = claim(&*store, "w", 1, t0()).await;
    let mut wrong_attempt = ok(&a[0]);
    wrong_attempt.attempt = 2;
    let wrong_owner = outcome(&a[0], "other", OutcomeKind::Succeeded { result: json!(1) });
    let mut expired = ok(&a[0]);
    expired.lease_expired = true;
    let results = store
        .complete_steps(
            &[wrong_attempt, wrong_owner, expired, ok(&a[0]), ok(&a[0])],
            t0(),
        )
        .await
        .expect("complete");
    let applied: Vec<bool> = results.iter().map(|r| r.applied).collect();
    assert_eq!(applied, [false, false, false, true, false]);
    // After the lease ran out, the live-lease fence refuses and nothing is written.
    let later = t0() + secs(1);
    let b = claim(&*store, "w", 1, later).await;
    let late = store
        .complete_steps(&[ok(&b[0])], later + secs(61))
        .await
        .expect("complete");
    assert!(!late[0].applied);
    let step = store
        .step(b[0].step_id)
        .await
        .expect("step")
        .expect("exists");
    assert_eq!(step.state, State::InProgress);
}

#[tokio::test]
async fn a_permanent_failure_blocks_the_task_once_nothing_runs() {
    let Some(store) = common::fresh_store("permanent_failure").await else {
        return;
    };
    let template_id = template(&*store).await;
    let id = store
        .create_tasks(&[task(template_id, None)], t0())
        .await
        .expect("create")[0]
        .id;
    let a = claim(&*store, "w", 1, t0()).await;
    store
        .complete_steps(&[ok(&a[0])], t0())
        .await
        .expect("complete");
    let bc = claim(&*store, "w", 2, t0()).await;
    assert_eq!(bc.len(), 2);
    // b fails for good while c still runs: the task waits for c.
    let r = store
        .complete_steps(&[failed(&bc[0], None)], t0())
        .await
        .expect("complete");
    assert!(r[0].applied && r[0].task_finished.is_none());
    assert_eq!(
        store.task(id).await.expect("t").expect("e").state,
        State::InProgress
    );
    check(&*store, id, t0()).await;
    let r = store
        .complete_steps(&[ok(&bc[1])], t0())
        .await
        .expect("complete");
    assert_eq!(r[0].task_finished, Some(State::Error));
    assert!(
        r[0].released_steps.is_empty(),
        "a blocked task releases nothing"
    );
    check(&*store, id, t0()).await;

    let retried = store
        .retry_task(id, t0() + secs(5), None)
        .await
        .expect("retry");
    assert_eq!(
        (retried.state, retried.steps_failed),
        (State::InProgress, 0)
    );
    check(&*store, id, t0() + secs(5)).await;
    let b = claim(&*store, "w", 5, t0() + secs(5)).await;
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].name.as_str(), b[0].attempt), ("b", 2));
    let r = store
        .complete_steps(&[ok(&b[0])], t0() + secs(5))
        .await
        .expect("complete");
    assert_eq!(r[0].released_steps.len(), 1);
    check(&*store, id, t0() + secs(5)).await;
}

#[tokio::test]
async fn a_retryable_failure_waits_for_its_retry_time() {
    let Some(store) = common::fresh_store("retryable_failure").await else {
        return;
    };
    let template_id = template(&*store).await;
    let id = store
        .create_tasks(&[task(template_id, None)], t0())
        .await
        .expect("create")[0]
        .id;
    let a = claim(&*store, "w", 1, t0()).await;
    let retry_at = t0() + secs(10);
    store
        .complete_steps(&[failed(&a[0], Some(retry_at))], t0())
        .await
        .expect("complete");
    check(&*store, id, t0() + secs(5)).await;
    assert!(claim(&*store, "w", 1, t0() + secs(5)).await.is_empty());
    assert_eq!(
        store
            .next_ready_at(&ClaimFilter::any_in_process())
            .await
            .expect("next"),
        Some(retry_at)
    );
    let history = store.step_transitions_of_task(id).await.expect("history");
    let last = history
        .iter()
        .rfind(|t| t.owner_id == a[0].step_id)
        .expect("row");
    assert_eq!(last.metadata["backoff_ms"], json!(1000));
    assert_eq!(last.metadata["error"], json!("boom"));
    let again = claim(&*store, "w", 1, retry_at).await;
    assert_eq!((again[0].step_id, again[0].attempt), (a[0].step_id, 2));
    check(&*store, id, retry_at).await;
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_step() {
    let Some(store) = common::fresh_store("concurrent_claimers").await else {
        return;
    };
    let template_id = template(&*store).await;
    let tasks: Vec<NewTask> = (0..200).map(|_| task(template_id, None)).collect();
    store.create_tasks(&tasks, t0()).await.expect("create");
    let mut handles = Vec::new();
    for worker in 0..4 {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            let owner = format!("w{worker}");
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_steps(&ClaimRequest {
                        owner: owner.clone(),
                        limit: 7,
                        now: t0(),
                        lease_expires_at: t0() + secs(60),
                        only_task: None,
                        filter: ClaimFilter::any_in_process(),
                    })
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|c| c.step_id));
            }
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.expect("join"));
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (200, 200));
}

#[tokio::test]
async fn migrations_are_current_after_migrate_and_idempotent() {
    let Some(store) = common::fresh_store("migrations").await else {
        return;
    };
    assert!(
        store
            .pending_migrations()
            .await
            .expect("pending")
            .is_empty()
    );
    assert!(store.migrate().await.expect("migrate again").is_empty());
    let info = store.describe().await.expect("describe");
    assert!(info.server_version.starts_with(char::is_numeric));
    let names: Vec<&str> = info
        .settings
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "synchronous_commit",
            "shared_buffers",
            "max_connections",
            "autovacuum",
            "statement_timeout",
            "lock_timeout"
        ]
    );
    let autovacuum = &info.settings[3].1;
    assert!(autovacuum == "on" || autovacuum == "off", "{autovacuum}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_run_every_diamond_to_completion() {
    let Some(store) = common::fresh_store("concurrent_workers_run_every_diamond").await else {
        return;
    };
    let template_id = template(&*store).await;
    let tasks: Vec<NewTask> = (0..150).map(|_| task(template_id, None)).collect();
    let ids: Vec<TaskId> = store
        .create_tasks(&tasks, t0())
        .await
        .expect("create")
        .iter()
        .map(|c| c.id)
        .collect();
    let mut handles = Vec::new();
    for worker in 0..4 {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            let owner = format!("w{worker}");
            let mut released = Vec::new();
            loop {
                // Small batches, so that the branches of one task often land on two workers.
                let claimed = store
                    .claim_steps(&ClaimRequest {
                        owner: owner.clone(),
                        limit: 3,
                        now: t0(),
                        lease_expires_at: t0() + secs(60),
                        only_task: None,
                        filter: ClaimFilter::any_in_process(),
                    })
                    .await
                    .expect("claim");
                if claimed.is_empty() {
                    let work = store.outstanding_work().await.expect("work");
                    if !work.scheduled && !work.running {
                        return released;
                    }
                    tokio::task::yield_now().await;
                    continue;
                }
                let outcomes: Vec<StepOutcome> = claimed
                    .iter()
                    .map(|c| outcome(c, &owner, OutcomeKind::Succeeded { result: json!(1) }))
                    .collect();
                let results = store
                    .complete_steps(&outcomes, t0())
                    .await
                    .expect("complete");
                assert!(results.iter().all(|r| r.applied));
                released.extend(results.into_iter().flat_map(|r| r.released_steps));
            }
        }));
    }
    let mut released = Vec::new();
    for handle in handles {
        released.extend(handle.await.expect("join"));
    }
    // Each task releases b and c once, and its join d once, whoever completed which branch.
    assert_eq!(released.len(), ids.len() * 3);
    assert_eq!(released.iter().collect::<HashSet<_>>().len(), ids.len() * 3);
    let counts = store.count_tasks_by_state().await.expect("counts");
    assert_eq!(counts, vec![(State::Complete, ids.len() as i64)]);
    for &id in ids.iter().step_by(37) {
        check(&*store, id, t0()).await;
    }
}

/// A root and `width` children (`child_000`, ...) of it, all run by `noop`; with `join`, one
/// more step after all the children.
fn fan_out(width: usize, join: bool) -> Arc<StepLayout> {
    let step = |name: String| NewStep {
        name,
        handler: "noop".into(),
        queue: None,
        inputs: None,
        retryable: true,
        max_attempts: 3,
    };
    let children = 1..=width;
    let mut steps: Vec<String> = std::iter::once("root".to_owned())
        .chain((0..width).map(|i| format!("child_{i:03}")))
        .collect();
    let mut edges: Vec<(usize, usize)> = children.clone().map(|child| (0, child)).collect();
    if join {
        steps.push("join".to_owned());
        edges.extend(children.map(|child| (child, width + 1)));
    }
    Arc::new(StepLayout {
        steps: steps.into_iter().map(step).collect(),
        edges,
    })
}

/// The root of a wide fan-out hands off its first children in id order and stops at the
/// hand-off's limit: the hand-off's probes of the children (`claim_released.sql`) end after
/// about as many rows as the limit, instead of reading and locking all of them to sort them.
#[tokio::test]
async fn a_wide_release_hands_off_its_first_children_without_reading_the_rest() {
    const CHILDREN: usize = 500;
    let Some(fresh) =
        common::fresh_schema("a_wide_release_hands_off_its_first_children_without_reading").await
    else {
        return;
    };
    let store = Arc::clone(&fresh.store);
    let template_id = template(&*store).await;
    let mut new_task = task(template_id, None);
    new_task.layout = fan_out(CHILDREN, false);
    store.create_tasks(&[new_task], t0()).await.expect("create");
    let root = claim(&*store, "w", 1, t0()).await;
    assert_eq!(root.len(), 1);
    let now = t0() + secs(1);

    // The plan: the release, then the hand-off under EXPLAIN ANALYZE, rolled back.
    let mut client = fresh.client().await;
    let tx = client.transaction().await.expect("begin");
    let root_ids = vec![root[0].step_id];
    tx.query(
        &common::query_text("release_children.sql"),
        &[&root_ids, &now],
    )
    .await
    .expect("release");
    let handoff = common::query_text("claim_released.sql");
    let (limit, queue, handlers) = (2i64, "", None::<Vec<String>>);
    let lease = now + secs(60);
    let row = tx
        .query_one(
            &format!("EXPLAIN (ANALYZE, FORMAT JSON) {handoff}"),
            &[&now, &limit, &"w", &lease, &root_ids, &queue, &handlers],
        )
        .await
        .expect("explain the hand-off");
    let plan: serde_json::Value = row.get(0);
    tx.rollback().await.expect("rollback");
    // The most probes of one step by its key anywhere in the plan: the hand-off's probe of
    // each child it considers, or a later lookup of the few it took.
    fn child_probes(node: &serde_json::Value, most: &mut u64) {
        if let Some(map) = node.as_object() {
            let probe = map.get("Relation Name") == Some(&json!("workflow_steps"))
                && map.get("Index Name") == Some(&json!("workflow_steps_pkey"));
            if probe {
                let loops = map
                    .get("Actual Loops")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                *most = (*most).max(loops);
            }
            map.values().for_each(|v| child_probes(v, most));
        } else if let Some(items) = node.as_array() {
            items.iter().for_each(|v| child_probes(v, most));
        }
    }
    let mut probes = 0;
    child_probes(&plan, &mut probes);
    assert!(
        probes > 0 && probes <= 10,
        "the hand-off probed {probes} of {CHILDREN} children for a limit of {limit}:\n{}",
        serde_json::to_string_pretty(&plan).unwrap_or_default()
    );

    // And the hand-off itself: the first two children, in id order.
    let done = store
        .complete_and_claim(
            &[ok(&root[0])],
            now,
            Some(&tasker_store::Handoff {
                owner: "w".into(),
                limit: 2,
                lease_expires_at: lease,
                filter: ClaimFilter::any_in_process(),
            }),
        )
        .await
        .expect("complete and hand off");
    assert_eq!(done.results[0].released_steps.len(), CHILDREN);
    let names: Vec<&str> = done.claimed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["child_000", "child_001"]);
}

/// Every release of a fan-in counts its finished parents off one child and updates that one
/// row, found by its key however young the table. Before the table has statistics, the
/// planner, seeing a small table and unable to estimate the counted children, hashed them
/// and scanned every step of the table instead: each completion in the middle of a
/// 1 -> 10,000 -> 1 fan-out scanned all its 10,002 steps (2-13 ms a release).
#[tokio::test]
async fn a_fan_in_release_updates_its_child_by_key_in_a_young_table() {
    const MIDDLE: usize = 2_000;
    let Some(fresh) =
        common::fresh_schema("a_fan_in_release_updates_its_child_by_key_in_a_young_table").await
    else {
        return;
    };
    let store = Arc::clone(&fresh.store);
    let template_id = template(&*store).await;
    let mut new_task = task(template_id, None);
    new_task.layout = fan_out(MIDDLE, true);
    store.create_tasks(&[new_task], t0()).await.expect("create");
    let root = claim(&*store, "w", 1, t0()).await;
    let now = t0() + secs(1);
    store
        .complete_steps(&[ok(&root[0])], now)
        .await
        .expect("complete the root");
    let middle = claim(&*store, "w", 200, now).await;
    assert_eq!(middle.len(), 200);

    // The release of a batch of finished middle steps: one child, the join.
    let finished: Vec<i64> = middle.iter().map(|c| c.step_id).collect();
    let client = fresh.client().await;
    let row = client
        .query_one(
            &format!(
                "EXPLAIN (FORMAT JSON) {}",
                common::query_text("release_children.sql")
            ),
            &[&finished, &now],
        )
        .await
        .expect("explain the release");
    let plan: serde_json::Value = row.get(0);
    let mut scanned = Vec::new();
    common::seq_scans(&plan, &mut scanned);
    assert!(
        !scanned.iter().any(|table| table == "workflow_steps"),
        "the release scans every step:\n{}",
        serde_json::to_string_pretty(&plan).unwrap_or_default()
    );
}
