//! Query plans at scale: with ~20,000 diamond tasks loaded and analyzed, no hot query may scan
//! a whole table. Each plan is checked as a custom plan (the bound values) and as the generic
//! plan a prepared statement switches to after a few runs.

mod common;

use serde_json::{Value, json};
use std::sync::Arc;
use tasker_model::Timestamp;
use tasker_store::{
    ClaimFilter, ClaimRequest, NewStep, NewTask, NewTemplate, OutcomeKind, StepLayout, StepOutcome,
    Store,
};
use tokio_postgres::types::ToSql;

const TASKS: usize = 20_000;
const BATCH: usize = 1_000;

fn t0() -> Timestamp {
    chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("valid time")
}

fn diamond() -> Arc<StepLayout> {
    diamond_on(None)
}

/// A diamond whose steps have handlers of their own (`start`, `left`, `right`, `join`), on
/// `queue` (`None`: in-process).
fn diamond_on(queue: Option<&str>) -> Arc<StepLayout> {
    let step = |name: &str, handler: &str| NewStep {
        name: name.into(),
        handler: handler.into(),
        queue: queue.map(str::to_owned),
        inputs: None,
        retryable: true,
        max_attempts: 3,
    };
    Arc::new(StepLayout {
        steps: vec![
            step("a", "start"),
            step("b", "left"),
            step("c", "right"),
            step("d", "join"),
        ],
        edges: vec![(0, 1), (0, 2), (1, 3), (2, 3)],
    })
}

/// Names of every index the plan reads.
fn indexes(plan: &Value, found: &mut Vec<String>) {
    match plan {
        Value::Object(node) => {
            if let Some(Value::String(index)) = node.get("Index Name") {
                found.push(index.clone());
            }
            node.values().for_each(|v| indexes(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| indexes(v, found)),
        _ => {}
    }
}

/// The partial indexes over all runnable or all running steps are for the queries that want
/// exactly those rows; anywhere else, reading them means scanning every runnable or running
/// step to find a few (a plan the planner picks when its statistics are stale).
fn wide_partial_indexes_allowed(name: &str) -> &'static [&'static str] {
    const READY: &str = "workflow_steps_ready";
    const EXPIRY: &str = "workflow_steps_lease_expiry";
    match name.split(' ').next().unwrap_or_default() {
        "claim_ready.sql" | "next_ready_at.sql" | "count_runnable_steps.sql" => &[READY],
        // The filter's routes: one range of the ready index per handler, beside the
        // task's steps or the released children read by key.
        "claim_task_ready.sql" | "claim_released.sql" => &[],
        "outstanding_work.sql" => &[READY, EXPIRY],
        // Giving an owner's leases back at shutdown reads every running step, a set bounded by
        // how many steps run at once (no index of their own: one entry fewer per claim).
        "expired_leases.sql" | "leased_tasks.sql" | "release_leases.sql" => &[EXPIRY],
        _ => &[],
    }
}

/// The indexes a query must read: task lists walk an index in the order they answer (no sort
/// of every match), analytics read finished tasks by when they finished, and their steps by
/// task.
fn required_indexes(name: &str) -> &'static [&'static str] {
    match name.split(' ').next().unwrap_or_default() {
        // Per handler of the filter (or of the queue, found by a skip scan of the same index),
        // a walk of its range of the ready index that stops at the limit.
        "claim_ready.sql" | "next_ready_at.sql" => &["workflow_steps_ready"],
        "list_tasks.sql" => &["tasks_pkey"],
        "list_tasks_by_state.sql" => &["tasks_state_id"],
        "list_tasks_by_template.sql" => &["tasks_template_id"],
        "finished_counts.sql" | "finished_all.sql+finished_tasks.sql" => &["tasks_completed_at"],
        "finished_by_template.sql+finished_tasks.sql" => &["tasks_template_completed_at"],
        "finished_all.sql+finished_step_samples.sql" => {
            &["tasks_completed_at", "workflow_steps_task_position"]
        }
        "finished_by_template.sql+finished_step_samples.sql" => &[
            "tasks_template_completed_at",
            "workflow_steps_task_position",
        ],
        _ => &[],
    }
}

/// Whether the plan reads `index` with one of the node types `kinds` (an index scan reads it in
/// its order; a bitmap scan reads every match).
fn scans_with(plan: &Value, index: &str, kinds: &[&str]) -> bool {
    match plan {
        Value::Object(node) => {
            let scans = node.get("Index Name") == Some(&json!(index))
                && node
                    .get("Node Type")
                    .and_then(Value::as_str)
                    .is_some_and(|kind| kinds.contains(&kind));
            scans || node.values().any(|v| scans_with(v, index, kinds))
        }
        Value::Array(items) => items.iter().any(|v| scans_with(v, index, kinds)),
        _ => false,
    }
}

/// Whether one of our SQL functions stayed opaque (not inlined), hiding its plan.
fn opaque_functions(plan: &Value) -> bool {
    match plan {
        Value::Object(node) => {
            let ours = node
                .get("Function Name")
                .and_then(Value::as_str)
                .is_some_and(|name| name.starts_with("tasker_"));
            ours || node.values().any(opaque_functions)
        }
        Value::Array(items) => items.iter().any(opaque_functions),
        _ => false,
    }
}

async fn assert_no_seq_scan(
    client: &tokio_postgres::Client,
    name: &str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) {
    for mode in ["force_custom_plan", "force_generic_plan"] {
        client
            .batch_execute(&format!("SET plan_cache_mode = {mode}"))
            .await
            .expect("set plan mode");
        let explain = format!("EXPLAIN (FORMAT JSON) {sql}");
        let statement = client.prepare(&explain).await.expect("prepare explain");
        let row = client
            .query_one(&statement, params)
            .await
            .unwrap_or_else(|e| panic!("explain {name}: {e}"));
        let plan: Value = row.get(0);
        let mut found = Vec::new();
        common::seq_scans(&plan, &mut found);
        assert!(
            found.is_empty(),
            "{name} ({mode}) scans {found:?}:\n{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
        let mut used = Vec::new();
        indexes(&plan, &mut used);
        let allowed = wide_partial_indexes_allowed(name);
        for index in &used {
            let wide = index.starts_with("workflow_steps_lease") || index == "workflow_steps_ready";
            assert!(
                !wide || allowed.contains(&index.as_str()),
                "{name} ({mode}) reads the partial index {index}:\n{}",
                serde_json::to_string_pretty(&plan).unwrap_or_default()
            );
        }
        // With statistics, each is a walk of the index in its order that stops at the limit
        // (an index scan), not a read of every match (a bitmap scan) and a sort; a count per
        // bucket reads its index alone. Without statistics, lists still read their index.
        let analyzed = name.ends_with("after analyze");
        for &index in required_indexes(name) {
            // One template's finished tasks are found along its own index, or along all
            // finished tasks skipping the others' when the planner expects it to match
            // often (it cannot know which template a parameter names): either is a walk of
            // the range in order that stops at the limit.
            let index = if index == "tasks_template_completed_at"
                && scans_with(&plan, "tasks_completed_at", &["Index Only Scan"])
            {
                "tasks_completed_at"
            } else {
                index
            };
            let walk = if !analyzed {
                used.iter().any(|used| used == index)
            } else if name.starts_with("finished_counts.sql") {
                scans_with(&plan, index, &["Index Only Scan"])
            } else {
                scans_with(&plan, index, &["Index Scan", "Index Only Scan"])
            };
            assert!(
                walk,
                "{name} ({mode}) does not walk {index}:\n{}",
                serde_json::to_string_pretty(&plan).unwrap_or_default()
            );
        }
        if std::env::var_os("TASKER_PRINT_PLANS").is_some() {
            eprintln!("{name} ({mode}): {plan}");
        }
        assert!(
            !opaque_functions(&plan),
            "{name} ({mode}) hides its plan in a function scan (not inlined)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_queries_use_indexes_at_scale() {
    let Some(fresh) = common::fresh_schema("hot_queries_use_indexes_at_scale").await else {
        return;
    };
    let store = Arc::clone(&fresh.store);
    let template_id = store
        .register_template(
            &NewTemplate {
                namespace: "plans".into(),
                name: "diamond".into(),
                version: "1.0.0".into(),
                description: None,
                definition: json!({}),
            },
            t0(),
        )
        .await
        .expect("register")
        .id;
    let layout = diamond();
    let mut task_ids = Vec::new();
    for batch in 0..TASKS / BATCH {
        let tasks: Vec<NewTask> = (0..BATCH)
            .map(|i| NewTask {
                template_id,
                context: json!({ "i": i }),
                identity_hash: Some(format!("{batch}-{i}")),
                idempotency_key: None,
                traceparent: None,
                layout: Arc::clone(&layout),
            })
            .collect();
        let created = store.create_tasks(&tasks, t0()).await.expect("create");
        task_ids.extend(created.iter().map(|c| c.id));
    }
    // Steps that workers pull from a queue, beside the in-process ones.
    let remote = diamond_on(Some("payments"));
    let on_queue: Vec<NewTask> = (0..BATCH)
        .map(|i| NewTask {
            template_id,
            context: json!({ "i": i }),
            identity_hash: None,
            idempotency_key: None,
            traceparent: None,
            layout: Arc::clone(&remote),
        })
        .collect();
    store.create_tasks(&on_queue, t0()).await.expect("create");
    store
        .advertise_handlers(
            "plans",
            None,
            &["start".into(), "left".into(), "right".into(), "join".into()],
            t0(),
            t0(),
        )
        .await
        .expect("advertise");
    // Some history and a mix of states, as in a running system.
    let now = t0() + chrono::Duration::seconds(1);
    let claimed = store
        .claim_steps(&ClaimRequest {
            owner: "plans".into(),
            limit: 5_000,
            now,
            lease_expires_at: now + chrono::Duration::seconds(60),
            only_task: None,
            filter: ClaimFilter::any_in_process(),
        })
        .await
        .expect("claim");
    let outcomes: Vec<StepOutcome> = claimed[..4_000]
        .iter()
        .map(|c| StepOutcome {
            step_id: c.step_id,
            task_id: c.task_id,
            owner: "plans".into(),
            attempt: c.attempt,
            lease_expired: false,
            result: OutcomeKind::Succeeded { result: json!(1) },
        })
        .collect();
    store
        .complete_steps(&outcomes, now)
        .await
        .expect("complete");

    let client = fresh.client().await;

    let one_task = vec![task_ids[TASKS / 2]];
    let some_tasks: Vec<i64> = task_ids[..50].to_vec();
    let running: Vec<i64> = claimed[4_000..4_050].iter().map(|c| c.step_id).collect();
    let running_tasks: Vec<i64> = claimed[4_000..4_050].iter().map(|c| c.task_id).collect();
    let owners: Vec<&str> = running.iter().map(|_| "plans").collect();
    let attempts: Vec<i32> = running.iter().map(|_| 1).collect();
    let flags: Vec<bool> = running.iter().map(|_| false).collect();
    let oks: Vec<bool> = running.iter().map(|_| true).collect();
    let results: Vec<Option<Value>> = running.iter().map(|_| Some(json!(1))).collect();
    let retry_at: Vec<Option<Timestamp>> = running.iter().map(|_| None).collect();
    let backoff: Vec<Option<i64>> = running.iter().map(|_| None).collect();
    let last_errors: Vec<Option<Value>> = running.iter().map(|_| None).collect();
    let hashes: Vec<String> = (0..50).map(|i| format!("3-{i}")).collect();
    let sorts: Vec<i32> = running.iter().map(|_| 3).collect();
    let none: Vec<Option<&str>> = running.iter().map(|_| None).collect();
    let states: Vec<&str> = running.iter().map(|_| "complete").collect();
    let metadata: Vec<Value> = running.iter().map(|_| json!({})).collect();
    let limit = 100i64;
    let one = 1i64;
    let no_namespace: Option<&str> = None;
    let namespace = Some("plans");
    let no_name: Option<&str> = None;
    let template_name = Some("diamond");
    let no_state: Option<&str> = None;
    let in_progress_state = Some("in_progress");
    let no_before: Option<i64> = None;
    let middle = Some(task_ids[TASKS / 2]);
    let no_time: Option<Timestamp> = None;
    let (since, until) = (Some(t0()), Some(now));
    let in_progress = "in_progress";
    let owner = "plans";
    let lease = now + chrono::Duration::seconds(60);
    let finished: Vec<i64> = claimed[..4_000].iter().map(|c| c.step_id).collect();
    let in_process = "";
    let queue = "payments";
    let any_handler: Option<Vec<&str>> = None;
    let one_handler = Some(vec!["left"]);
    let handlers = Some(vec!["join", "left", "right", "start"]);
    let unknown_handler = Some(vec!["missing"]);
    let worker = "plans";
    let route_queues = vec!["", "", "payments"];
    let route_handlers = vec!["left", "missing", "start"];
    let advertised = vec!["left".to_owned(), "right".to_owned()];

    let checks: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = vec![
        // An orchestrator's claim (its handlers), one handler's, one of a handler with no
        // steps, and a worker's that takes any handler of its queue (the skip scan).
        (
            "claim_ready.sql",
            vec![&now, &limit, &owner, &lease, &in_process, &handlers],
        ),
        (
            "claim_ready.sql",
            vec![&now, &limit, &owner, &lease, &in_process, &one_handler],
        ),
        (
            "claim_ready.sql",
            vec![&now, &limit, &owner, &lease, &in_process, &unknown_handler],
        ),
        (
            "claim_ready.sql",
            vec![&now, &limit, &owner, &lease, &queue, &any_handler],
        ),
        (
            "claim_ready.sql",
            vec![&now, &limit, &owner, &lease, &in_process, &any_handler],
        ),
        (
            "claim_task_ready.sql",
            vec![
                &now,
                &limit,
                &owner,
                &lease,
                &one_task[0],
                &in_process,
                &handlers,
            ],
        ),
        (
            "claim_task_ready.sql",
            vec![
                &now,
                &limit,
                &owner,
                &lease,
                &one_task[0],
                &queue,
                &any_handler,
            ],
        ),
        (
            "claim_released.sql",
            vec![
                &now,
                &limit,
                &owner,
                &lease,
                &finished,
                &in_process,
                &handlers,
            ],
        ),
        // A small hand-off from a large completion: the plan that walks the runnable steps
        // in order looking for the children looks cheapest here, and is the slowest.
        (
            "claim_released.sql",
            vec![
                &now,
                &one,
                &owner,
                &lease,
                &finished,
                &in_process,
                &any_handler,
            ],
        ),
        ("lock_tasks.sql", vec![&running_tasks]),
        ("lock_tasks_exclusive.sql", vec![&running_tasks]),
        (
            "complete_steps.sql",
            vec![
                &now,
                &running,
                &running_tasks,
                &owners,
                &attempts,
                &flags,
                &oks,
                &results,
                &retry_at,
                &backoff,
                &last_errors,
            ],
        ),
        (
            "complete_steps_tasks.sql",
            vec![&now, &running_tasks, &oks, &flags],
        ),
        ("release_children.sql", vec![&running, &now]),
        ("block_tasks.sql", vec![&running_tasks, &now]),
        (
            "insert_transitions.sql",
            vec![
                &running,
                &none,
                &states,
                &metadata,
                &sorts,
                &running_tasks,
                &none,
                &states,
                &metadata,
                &sorts,
                &now,
            ],
        ),
        ("find_tasks_by_identity.sql", vec![&hashes]),
        ("current_task_transition.sql", vec![&one_task[0]]),
        ("task_transitions.sql", vec![&one_task[0]]),
        ("step_transitions_of_task.sql", vec![&one_task[0]]),
        ("steps_of_task.sql", vec![&one_task[0]]),
        ("task.sql", vec![&one_task[0]]),
        ("step.sql", vec![&running[0]]),
        ("expired_leases.sql", vec![&now, &limit]),
        ("next_ready_at.sql", vec![&in_process, &handlers]),
        ("next_ready_at.sql", vec![&queue, &any_handler]),
        // worker_handlers holds a row per live worker and route: small by design, read as the
        // planner likes. Explained here so that the statements are checked against the schema.
        (
            "advertise_handlers.sql",
            vec![&worker, &in_process, &advertised, &now, &now],
        ),
        (
            "advertised_routes.sql",
            vec![&route_queues, &route_handlers, &now],
        ),
        ("count_runnable_steps.sql", vec![&now, &limit]),
        ("outstanding_work.sql", vec![]),
        ("wake_task_steps.sql", vec![&one_task[0], &now]),
        ("cancel_task_steps.sql", vec![&one_task[0], &now]),
        ("fail_idle_blocked_tasks.sql", vec![&some_tasks, &now]),
        ("leased_tasks.sql", vec![&owner]),
        (
            "renew_leases.sql",
            vec![&owner, &lease, &running, &attempts, &now],
        ),
        ("release_leases.sql", vec![&owner, &now]),
        (
            "release_steps.sql",
            vec![&owner, &now, &running, &attempts, &now],
        ),
        ("steps_tasks.sql", vec![&running]),
        (
            "list_tasks.sql",
            vec![&no_before, &no_time, &no_time, &limit],
        ),
        ("list_tasks.sql", vec![&middle, &since, &until, &limit]),
        (
            "list_tasks_by_state.sql",
            vec![&no_before, &no_time, &no_time, &in_progress, &limit],
        ),
        (
            "list_tasks_by_state.sql",
            vec![&middle, &since, &until, &in_progress, &limit],
        ),
        (
            "list_tasks_by_template.sql",
            vec![
                &no_before,
                &no_time,
                &no_time,
                &no_state,
                &limit,
                &no_namespace,
                &template_name,
            ],
        ),
        (
            "list_tasks_by_template.sql",
            vec![
                &middle,
                &since,
                &until,
                &in_progress_state,
                &limit,
                &namespace,
                &no_name,
            ],
        ),
    ];
    let readiness = "SELECT * FROM tasker_step_readiness($1::bigint[], $2::timestamptz)";
    let context = "SELECT * FROM tasker_task_execution_context($1::bigint[], $2::timestamptz)";
    // Once with the statistics ANALYZE gathers, and once before, as right after a bulk load.
    client
        .batch_execute(
            "ALTER TABLE workflow_steps SET (autovacuum_enabled = false);
             ALTER TABLE workflow_step_edges SET (autovacuum_enabled = false);
             ALTER TABLE tasks SET (autovacuum_enabled = false)",
        )
        .await
        .expect("pause autovacuum");
    for phase in ["before analyze", "after analyze"] {
        if phase == "after analyze" {
            client
                .batch_execute(&format!("ANALYZE {}", common::BIG_TABLES.join(", ")))
                .await
                .expect("analyze");
        }
        for (file, params) in &checks {
            assert_no_seq_scan(
                &client,
                &format!("{file} {phase}"),
                &common::query_text(file),
                params,
            )
            .await;
        }
        // The introspection functions: their bodies must inline into the caller's plan.
        let name = format!("step readiness {phase}");
        assert_no_seq_scan(&client, &name, readiness, &[&one_task, &now]).await;
        let name = format!("execution context {phase}");
        assert_no_seq_scan(&client, &name, context, &[&one_task, &now]).await;
    }
}

/// The analytics over a finished history (as `tasker bench` seeds it) beside unfinished work:
/// walks of the finished-task indexes, and steps read by task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_read_finished_tasks_by_index() {
    let Some(fresh) = common::fresh_schema("analytics_read_finished_tasks_by_index").await else {
        return;
    };
    let store = Arc::clone(&fresh.store);
    let mut template_ids = Vec::new();
    for name in ["diamond", "other"] {
        let registered = store
            .register_template(
                &NewTemplate {
                    namespace: "plans".into(),
                    name: name.into(),
                    version: "1.0.0".into(),
                    description: None,
                    definition: json!({}),
                },
                t0(),
            )
            .await
            .expect("register");
        template_ids.push(registered.id);
    }
    let layout = diamond();
    for (&template_id, count) in template_ids.iter().zip([TASKS, TASKS / 20]) {
        store
            .seed_completed_tasks(template_id, &layout, count as u64, t0())
            .await
            .expect("seed");
    }
    let unfinished: Vec<NewTask> = (0..BATCH)
        .map(|i| NewTask {
            template_id: template_ids[0],
            context: json!({ "i": i }),
            identity_hash: None,
            idempotency_key: None,
            traceparent: None,
            layout: Arc::clone(&layout),
        })
        .collect();
    store.create_tasks(&unfinished, t0()).await.expect("create");

    let client = fresh.client().await;
    // An hour of the day's history: a range covering most of the table is rightly read
    // whole; a range is what the indexes are for.
    let (day, hour) = (t0() - chrono::Duration::hours(2), 3_600i64);
    let (now, limit) = (t0() - chrono::Duration::hours(1), 100i64);
    let templates = vec![template_ids[1]];
    let checks: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = vec![
        ("finished_counts.sql", vec![&day, &now, &hour]),
        (
            "finished_all.sql+finished_tasks.sql",
            vec![&day, &now, &limit],
        ),
        (
            "finished_by_template.sql+finished_tasks.sql",
            vec![&day, &now, &limit, &templates],
        ),
        (
            "finished_all.sql+finished_step_samples.sql",
            vec![&day, &now, &limit],
        ),
        (
            "finished_by_template.sql+finished_step_samples.sql",
            vec![&day, &now, &limit, &templates],
        ),
    ];
    // Checked with statistics only: analytics read a history autovacuum has analyzed (right
    // after a bulk load, without statistics, the planner may read a small table whole).
    // VACUUM as autovacuum would: index-only scans need the visibility map it sets. Only this
    // schema's tables: a database-wide ANALYZE would give statistics to the other test's
    // tables while it checks plans without them.
    client
        .batch_execute(&format!("VACUUM ANALYZE {}", common::BIG_TABLES.join(", ")))
        .await
        .expect("vacuum analyze");
    for (file, params) in &checks {
        let name = format!("{file} after analyze");
        assert_no_seq_scan(&client, &name, &common::query_text(file), params).await;
    }
}
