//! The hot queries are index lookups: no `SCAN` of steps, tasks or transitions, whatever the
//! planner statistics say (checked before and after `ANALYZE` on a table where every step is
//! ready, the case where SQLite once preferred a scan).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tasker_sqlite::{SqliteStore, hot_queries};
use tasker_store::{NewStep, NewTask, NewTemplate, StepLayout, Store};

const WATCHED: [&str; 5] = [
    "workflow_steps",
    "tasks",
    "task_transitions",
    "workflow_step_transitions",
    "workflow_step_edges",
];

async fn plan(store: &SqliteStore, sql: &'static str, params: usize) -> Vec<String> {
    store
        .with_connection(move |conn| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let values: Vec<i64> = vec![1; params];
            let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
            let mut details = Vec::new();
            while let Some(row) = rows.next()? {
                details.push(row.get::<_, String>(3)?);
            }
            Ok(details)
        })
        .await
        .expect("explain")
}

async fn populated_store() -> SqliteStore {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "tasker-sqlite-plans-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let store = SqliteStore::open_temporary(&path.to_string_lossy()).expect("open");
    store.migrate().await.expect("migrate");
    let now = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    let template = store
        .register_template(
            &NewTemplate {
                namespace: "plans".into(),
                name: "wide".into(),
                version: "1.0.0".into(),
                description: None,
                definition: serde_json::json!({}),
            },
            now,
        )
        .await
        .expect("template");
    // Four handlers, in-process and on a queue.
    let layout = |queue: Option<&str>| {
        Arc::new(StepLayout {
            steps: (0..20)
                .map(|i| NewStep {
                    name: format!("s{i}"),
                    handler: format!("h{}", i % 4),
                    queue: queue.map(str::to_owned),
                    inputs: None,
                    retryable: true,
                    max_attempts: 3,
                })
                .collect(),
            edges: Vec::new(),
        })
    };
    let (in_process, on_queue) = (layout(None), layout(Some("payments")));
    let tasks: Vec<NewTask> = (0..50)
        .map(|i| NewTask {
            template_id: template.id,
            context: serde_json::json!({}),
            identity_hash: None,
            idempotency_key: None,
            traceparent: None,
            layout: Arc::clone(if i % 2 == 0 { &in_process } else { &on_queue }),
        })
        .collect();
    store.create_tasks(&tasks, now).await.expect("tasks");
    store
}

async fn assert_no_scans(store: &SqliteStore) {
    let queries: [(&str, &'static str, usize); 26] = [
        ("tasks", hot_queries::TASKS_LIST, 4),
        ("tasks by state", hot_queries::TASKS_LIST_BY_STATE, 5),
        ("tasks by template", hot_queries::TASKS_LIST_BY_TEMPLATE, 6),
        // Parameters: now, limit, queue, then one per handler.
        ("claim for one handler", hot_queries::claim_steps(1), 4),
        ("claim for three handlers", hot_queries::claim_steps(3), 6),
        ("claim for 32 handlers", hot_queries::claim_steps(32), 35),
        ("handlers of a queue", hot_queries::QUEUE_HANDLERS, 1),
        ("claim for one task", hot_queries::CLAIM_TASK_STEPS, 5),
        ("route of a step", hot_queries::STEP_ROUTE, 1),
        ("next ready of a handler", hot_queries::NEXT_READY_AT, 2),
        ("route advertised", hot_queries::ROUTE_ADVERTISED, 3),
        ("runnable steps", hot_queries::COUNT_RUNNABLE_STEPS, 2),
        ("steps of task", hot_queries::STEPS_OF_TASK, 1),
        ("parents of task", hot_queries::PARENTS_OF_TASK, 1),
        ("release children", hot_queries::RELEASE_CHILDREN, 2),
        ("parent results", hot_queries::PARENT_RESULTS, 1),
        ("clear ready", hot_queries::TASK_CLEAR_READY, 1),
        ("restore ready", hot_queries::TASK_RESTORE_READY, 2),
        ("any running", hot_queries::TASK_ANY_RUNNING, 1),
        ("task history", hot_queries::TASK_TRANSITIONS, 1),
        (
            "current task transition",
            hot_queries::TASK_TRANSITION_CURRENT,
            1,
        ),
        ("step history", hot_queries::STEP_TRANSITIONS_OF_TASK, 1),
        ("expired leases", hot_queries::EXPIRED_LEASES, 2),
        ("leases of owner", hot_queries::LEASES_OF_OWNER, 1),
        ("step readiness", hot_queries::STEP_READINESS, 2),
        ("execution context", hot_queries::TASK_EXECUTION_CONTEXT, 2),
    ];
    for (what, sql, params) in queries {
        check(what, &plan(store, sql, params).await);
    }
    check(
        "outstanding",
        &plan(store, hot_queries::OUTSTANDING_WORK, 0).await,
    );
}

/// Partial indexes hold only the rows a query wants (runnable or running steps), so walking
/// one of them is not a scan of the table.
const PARTIAL: [&str; 2] = ["workflow_steps_ready", "workflow_steps_lease_expires"];

/// The first watched table the plan scans, if any.
fn scanned_table(details: &[String]) -> Option<&str> {
    details.iter().find_map(|line| {
        let rest = line.strip_prefix("SCAN ")?;
        let table = rest.split_whitespace().next().unwrap_or_default();
        let partial = PARTIAL
            .iter()
            .any(|index| rest.ends_with(&format!("INDEX {index}")));
        (WATCHED.contains(&table) && !partial).then_some(table)
    })
}

fn check(what: &str, details: &[String]) {
    if let Some(table) = scanned_table(details) {
        panic!("{what} scans {table}: {details:#?}");
    }
}

#[test]
fn the_check_tells_a_scan_from_an_index_walk() {
    let plan = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert_eq!(
        scanned_table(&plan(&["SCAN workflow_steps"])),
        Some("workflow_steps")
    );
    assert_eq!(
        scanned_table(&plan(&["SCAN tasks USING INDEX tasks_state_id"])),
        Some("tasks")
    );
    assert_eq!(
        scanned_table(&plan(&[
            "SCAN workflow_steps USING COVERING INDEX workflow_steps_lease_expires"
        ])),
        None
    );
    assert_eq!(
        scanned_table(&plan(&[
            "SEARCH workflow_steps USING INDEX workflow_steps_ready (ready_at<?)"
        ])),
        None
    );
}

/// Whether every read of `workflow_steps` in the plan is a search of the ready index by route
/// (queue and handler), in the index's order (no sort of what was read but the final merge).
fn searches_ready_index_by_route(details: &[String]) -> bool {
    let reads: Vec<&String> = details
        .iter()
        .filter(|l| l.contains("workflow_steps"))
        .collect();
    !reads.is_empty()
        && reads.iter().all(|l| {
            l.starts_with("SEARCH") && l.contains("INDEX workflow_steps_ready (queue=? AND handler")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_reads_the_ready_index() {
    let store = populated_store().await;
    for analyzed in [false, true] {
        if analyzed {
            store
                .with_connection(|conn| conn.execute_batch("ANALYZE"))
                .await
                .expect("analyze");
        }
        for (what, sql, params) in [
            ("claim for one handler", hot_queries::claim_steps(1), 4),
            ("claim for three handlers", hot_queries::claim_steps(3), 6),
            ("next ready of a handler", hot_queries::NEXT_READY_AT, 2),
        ] {
            let details = plan(&store, sql, params).await;
            assert!(
                searches_ready_index_by_route(&details),
                "{what} (analyzed: {analyzed}): {details:#?}"
            );
        }
        // The skip scan: one search of the ready index per handler of the queue.
        let details = plan(&store, hot_queries::QUEUE_HANDLERS, 1).await;
        let reads: Vec<&String> = details
            .iter()
            .filter(|l| l.contains("workflow_steps"))
            .collect();
        assert!(
            reads.len() == 2
                && reads.iter().all(|l| l.starts_with("SEARCH")
                    && l.contains("INDEX workflow_steps_ready (queue=?")),
            "handlers of a queue (analyzed: {analyzed}): {details:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_queries_use_indexes_before_and_after_analyze() {
    let store = populated_store().await;
    assert_no_scans(&store).await;
    store
        .with_connection(|conn| conn.execute_batch("ANALYZE"))
        .await
        .expect("analyze");
    assert_no_scans(&store).await;
}

/// Every step of the plan that reads tasks is an index search: no walk of the whole table or
/// of an index, and no sort of what was read (the order comes from the index). Templates and
/// namespaces (aliases `tt` and `n`), a handful of rows, may be read in full. The scan check
/// above matches table names, which aliased queries do not show; these are checked line by line.
fn assert_only_searches(what: &str, details: &[String]) {
    let small = |line: &str| {
        ["SCAN n", "SCAN tt"]
            .iter()
            .any(|scan| line == *scan || line.starts_with(&format!("{scan} ")))
    };
    assert!(
        details
            .iter()
            .all(|line| line.starts_with("SEARCH ") || small(line)),
        "{what} does more than index searches: {details:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_lists_and_analytics_search_their_indexes() {
    let store = populated_store().await;
    for analyzed in [false, true] {
        if analyzed {
            store
                .with_connection(|conn| conn.execute_batch("ANALYZE"))
                .await
                .expect("analyze");
        }
        for (what, sql, params) in [
            ("tasks", hot_queries::TASKS_LIST, 4),
            ("tasks by state", hot_queries::TASKS_LIST_BY_STATE, 5),
            ("tasks by template", hot_queries::TASKS_LIST_BY_TEMPLATE, 6),
            ("finished tasks", hot_queries::FINISHED_TASKS, 3),
            (
                "finished tasks by template",
                hot_queries::FINISHED_TASKS_BY_TEMPLATE,
                4,
            ),
            ("steps of a finished task", hot_queries::STEP_SAMPLES, 1),
        ] {
            assert_only_searches(what, &plan(&store, sql, params).await);
        }
        // Counting per bucket groups what it read (the range of the covering index).
        let counts = plan(&store, hot_queries::FINISHED_COUNTS, 3).await;
        let (grouping, rest): (Vec<String>, Vec<String>) = counts
            .into_iter()
            .partition(|line| line == "USE TEMP B-TREE FOR GROUP BY");
        assert_only_searches("finished counts", &rest);
        assert!(
            rest.iter()
                .any(|l| l.contains("COVERING INDEX tasks_completed_at")),
            "{rest:?} {grouping:?}"
        );
    }
}
