//! Several real `tasker run` processes on one database: they share the work without running
//! a step twice at once, and nothing is lost when one is killed, stopped, or cut off from the
//! database. PostgreSQL cases run in a fresh schema of `TASKER_TEST_DATABASE_URL` (loudly
//! skipped when unset, a failure on CI); the SQLite case needs nothing.
//!
//! The cases run one at a time: each starts several processes, and on a small machine two
//! such cases at once would measure the scheduler rather than the engine.

mod multiprocess {
    pub mod cluster;
}

use multiprocess::cluster::{Cluster, wait_for_progress};
use std::time::Duration;
use tokio::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

const TASKS: usize = 10_000;
const TEMPLATE: &str = "multi/diamond";
/// Long enough for the slowest of the cases on a loaded two-core machine.
const FINISH: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_the_work_and_run_each_step_once() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::postgres("three_workers_share_the_work").await else {
        return;
    };
    cluster.create_tasks(TEMPLATE, TASKS).await;
    let workers: Vec<_> = (0..3).map(|_| cluster.worker(&["--until-idle"])).collect();
    let mut claimed = Vec::new();
    for worker in workers {
        let name = worker.name.clone();
        let done = worker.finish(FINISH).await;
        done.assert_success(&name);
        claimed.push(done.stats()["steps_claimed"].as_u64().unwrap_or(0));
    }
    cluster.assert_all_completed_exactly_once(TASKS).await;
    assert_eq!(
        claimed.iter().sum::<u64>(),
        (TASKS * 4) as u64,
        "{claimed:?}"
    );
    assert!(
        claimed.iter().all(|&n| n > 0),
        "every worker should get a share: {claimed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_nothing_and_a_late_one_helps_finish() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::postgres("a_killed_worker_loses_nothing").await else {
        return;
    };
    cluster.create_tasks(TEMPLATE, TASKS).await;
    let args = ["--until-idle", "--lease-ms", "2000"];
    let victim = cluster.worker(&args);
    let survivors = vec![cluster.worker(&args), cluster.worker(&args)];
    wait_for_progress(&cluster, TASKS / 5).await;
    victim.signal("KILL");
    let killed = victim.finish(FINISH).await;
    assert!(!killed.status.success(), "SIGKILL should end the worker");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let late = cluster.worker(&args);
    let mut recovered = 0;
    for worker in survivors.into_iter().chain([late]) {
        let name = worker.name.clone();
        let done = worker.finish(FINISH).await;
        done.assert_success(&name);
        recovered += done.stats()["leases_recovered"].as_u64().unwrap_or(0);
    }
    cluster.assert_all_completed_exactly_once(TASKS).await;
    // Every lease the dead worker held was turned into a failed attempt exactly once.
    let rescued: u64 = cluster
        .sql(
            "select count(*) from workflow_step_transitions \
             where metadata->>'failure' = 'lease_expired'",
        )
        .trim()
        .parse()
        .expect("a count");
    assert_eq!(rescued, recovered);
    let still_leased = cluster.sql("select count(*) from workflow_steps where lease_owner is not null and state = 'in_progress'");
    assert_eq!(still_leased.trim(), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutting_every_worker_connection_mid_run_loses_nothing() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::postgres("cutting_every_worker_connection").await else {
        return;
    };
    cluster.create_tasks(TEMPLATE, TASKS).await;
    let args = ["--until-idle", "--lease-ms", "2000"];
    let workers: Vec<_> = (0..3).map(|_| cluster.worker(&args)).collect();
    wait_for_progress(&cluster, TASKS / 5).await;
    let cut = cluster.terminate_worker_connections();
    assert!(cut > 0, "the workers should have connections to cut");
    wait_for_progress(&cluster, TASKS / 2).await;
    cluster.terminate_worker_connections();
    for worker in workers {
        let name = worker.name.clone();
        worker.finish(FINISH).await.assert_success(&name);
    }
    cluster.assert_all_completed_exactly_once(TASKS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_worker_cleanly_and_the_others_finish() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::postgres("sigterm_stops_a_worker").await else {
        return;
    };
    cluster.create_tasks(TEMPLATE, TASKS).await;
    let lease = Duration::from_secs(3);
    let lease_ms = lease.as_millis().to_string();
    // Not `--until-idle`: only the signal stops it.
    let stopped = cluster.worker(&["--lease-ms", &lease_ms]);
    let others: Vec<_> = (0..2)
        .map(|_| cluster.worker(&["--until-idle", "--lease-ms", &lease_ms]))
        .collect();
    wait_for_progress(&cluster, TASKS / 5).await;
    stopped.signal("TERM");
    // Running handlers get up to one lease to finish; then the leases left are released.
    let done = stopped.finish(lease + Duration::from_secs(5)).await;
    done.assert_success("the stopped worker");
    assert!(done.stats()["steps_claimed"].as_u64().unwrap_or(0) > 0);
    for worker in others {
        let name = worker.name.clone();
        let finished = worker.finish(FINISH).await;
        finished.assert_success(&name);
        // Nothing of the stopped worker was left to expire: it released or finished it all.
        assert_eq!(finished.stats()["leases_recovered"], 0, "{name}");
    }
    cluster.assert_all_completed_exactly_once(TASKS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_in_one_process_starts_at_once_in_another() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::postgres("a_task_created_in_one_process").await else {
        return;
    };
    // Polling alone would not look again for a minute: only a wake-up can start the task.
    let worker = cluster.worker(&["--poll-ms", "60000"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let creator = cluster.command(&["task", "create", TEMPLATE]);
    let created = creator.finish(FINISH).await;
    created.assert_success("task create");
    let out: serde_json::Value = serde_json::from_str(&created.stdout).expect("JSON output");
    let id = out["task"]["id"].as_i64().expect("a task id");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let task = cluster.engine.task(id).await.expect("the task");
        if task.state == tasker::State::Complete {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker was not woken: task {id} is {}",
            task.state
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.signal("TERM");
    worker.finish(FINISH).await.assert_success("the worker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creations_with_one_idempotency_key_make_one_task() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::postgres("racing_creations").await else {
        return;
    };
    let creators: Vec<_> = (0..6)
        .map(|_| cluster.command(&["task", "create", TEMPLATE, "--idempotency-key", "order-42"]))
        .collect();
    let mut ids = Vec::new();
    for creator in creators {
        let name = creator.name.clone();
        let done = creator.finish(FINISH).await;
        done.assert_success(&name);
        let out: serde_json::Value = serde_json::from_str(&done.stdout).expect("JSON output");
        ids.push(out["task"]["id"].as_i64().expect("a task id"));
    }
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "every creator should get the same task: {ids:?}"
    );
    assert_eq!(cluster.sql("select count(*) from tasks").trim(), "1");
}

const HANGING: &str = "\
namespace: multi
name: hanging
version: 1.0.0
steps:
  - name: hang
    handler: command
    config: { program: sleep, args: ['30'] }
    timeout_ms: 300
    retry: { max_attempts: 2, backoff: none }
";

const CRASHING: &str = "\
namespace: multi
name: crashing
version: 1.0.0
steps:
  - name: crash
    handler: command
    config: { program: sh, args: ['-c', 'kill -9 $$'] }
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_and_crashing_handlers_are_failed_attempts_and_workers_go_on() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let Some(mut cluster) = Cluster::postgres("hanging_and_crashing_handlers").await else {
        return;
    };
    cluster.register(HANGING).await;
    cluster.register(CRASHING).await;
    let hanging = cluster.create_tasks("multi/hanging", 1).await;
    let crashing = cluster.create_tasks("multi/crashing", 1).await;
    cluster.create_tasks(TEMPLATE, 200).await;
    let workers: Vec<_> = (0..2).map(|_| cluster.worker(&["--until-idle"])).collect();
    let mut failed = 0;
    let mut succeeded = 0;
    for worker in workers {
        let name = worker.name.clone();
        let done = worker.finish(FINISH).await;
        done.assert_success(&name);
        failed += done.stats()["steps_failed"].as_u64().unwrap_or(0);
        succeeded += done.stats()["steps_succeeded"].as_u64().unwrap_or(0);
    }
    // The hanging step timed out on both its attempts; the crash is a permanent failure.
    assert_eq!(failed, 2 + 1);
    assert_eq!(succeeded, 200 * 4);
    for (id, attempts) in [(hanging[0], 2), (crashing[0], 1)] {
        let task = cluster.engine.task(id).await.expect("the faulty task");
        assert_eq!(task.state, tasker::State::Error, "task {id}");
        let steps = cluster
            .engine
            .store()
            .steps_of_task(id)
            .await
            .expect("steps");
        assert_eq!(steps[0].attempts, attempts, "task {id}");
    }
    let diamonds = cluster.sql(
        "select count(*) from tasks t join task_templates tt on tt.id = t.template_id \
         where tt.name = 'diamond' and t.state = 'complete'",
    );
    assert_eq!(diamonds.trim(), "200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_one_sqlite_file() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut cluster = Cluster::sqlite().await;
    let tasks = 2_000;
    let ids = cluster.create_tasks(TEMPLATE, tasks).await;
    let workers: Vec<_> = (0..2).map(|_| cluster.worker(&["--until-idle"])).collect();
    let mut claimed = 0;
    for worker in workers {
        let name = worker.name.clone();
        let done = worker.finish(FINISH).await;
        done.assert_success(&name);
        claimed += done.stats()["steps_claimed"].as_u64().unwrap_or(0);
    }
    assert_eq!(claimed, (tasks * 4) as u64);
    cluster.assert_all_completed_exactly_once(tasks).await;
    // The history check PostgreSQL does in SQL, through the store.
    for id in ids {
        let history = cluster
            .engine
            .store()
            .step_transitions_of_task(id)
            .await
            .expect("history");
        let mut by_step = std::collections::BTreeMap::<i64, Vec<_>>::new();
        for t in history {
            by_step.entry(t.owner_id).or_default().push(t);
        }
        for (step, mut transitions) in by_step {
            transitions.sort_by_key(|t| t.sort_key);
            let states: Vec<_> = transitions.iter().map(|t| t.to_state).collect();
            assert_eq!(
                states,
                [
                    tasker::State::Pending,
                    tasker::State::InProgress,
                    tasker::State::Complete
                ],
                "step {step} of task {id}"
            );
        }
    }
}
