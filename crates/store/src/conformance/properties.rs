//! Random DAGs with random step behaviour, driven to the end through the trait.

use super::fixture::{
    LEASE_SECS, check_task, claim, create, failure, layout_with, secs, success, t0,
};
use crate::{ClaimFilter, ClaimedStep, Completion, Handoff, Store};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use tasker_model::{State, TaskId, Timestamp};

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Succeed,
    /// Fails this many times with a retry, then succeeds (or runs out of attempts).
    FailRetryably(i32),
    FailPermanently,
    /// The first attempt's worker vanishes: the lease expires, the rescuer records a failed
    /// attempt, the worker's late report is fenced out, and the retry succeeds.
    LoseLease,
}

#[derive(Debug, Clone)]
struct Dag {
    behaviours: Vec<Behaviour>,
    /// `(parent, child)` with `parent < child`.
    edges: Vec<(usize, usize)>,
    /// An operator resolves every step that fails for good, so the task must complete.
    resolve_failures: bool,
    /// Completions claim up to this many of the steps they release (0: none, all claimed).
    handoff: u32,
}

fn dag() -> impl Strategy<Value = Dag> {
    // Failures for good are rare per step so that about half of the runs complete and the
    // rest block somewhere in the middle of the DAG rather than in the first round.
    let behaviour = prop_oneof![
        60 => Just(Behaviour::Succeed),
        12 => (1..3i32).prop_map(Behaviour::FailRetryably),
        // Three failures use up the three attempts of every generated step.
        1 => Just(Behaviour::FailRetryably(3)),
        1 => Just(Behaviour::FailPermanently),
        4 => Just(Behaviour::LoseLease),
    ];
    (1..50usize)
        .prop_flat_map(move |n| {
            let pairs: Vec<(usize, usize)> =
                (0..n).flat_map(|c| (0..c).map(move |p| (p, c))).collect();
            let edges = if pairs.is_empty() {
                Just(Vec::new()).boxed()
            } else {
                proptest::sample::subsequence(pairs.clone(), 0..=pairs.len().min(3 * n)).boxed()
            };
            (
                proptest::collection::vec(behaviour.clone(), n),
                edges,
                any::<bool>(),
                0..4u32,
            )
        })
        .prop_map(|(behaviours, edges, resolve_failures, handoff)| Dag {
            behaviours,
            edges,
            resolve_failures,
            handoff,
        })
}

/// Run one DAG to its end; `start` is after every earlier run's time line.
async fn drive(store: &dyn Store, dag: &Dag, start: Timestamp) -> Timestamp {
    let names: Vec<String> = (0..dag.behaviours.len()).map(|i| format!("s{i}")).collect();
    let specs: Vec<(&str, bool, i32)> = names.iter().map(|n| (n.as_str(), true, 3)).collect();
    let edges: Vec<(&str, &str)> = dag
        .edges
        .iter()
        .map(|&(p, c)| (names[p].as_str(), names[c].as_str()))
        .collect();
    let task_id: TaskId = create(store, &layout_with(&specs, &edges), start).await;
    let mut failures: HashMap<String, i32> = HashMap::new();
    let mut now = start;
    let mut rounds = 0;
    // Steps the last completion handed off: they run in the next round with the claimed ones.
    let mut handed_off: Vec<ClaimedStep> = Vec::new();
    loop {
        check_task(store, task_id, now).await;
        let mut claimed = std::mem::take(&mut handed_off);
        let room = 8u32.saturating_sub(claimed.len() as u32);
        claimed.extend(claim(store, room, now).await);
        if claimed.is_empty() {
            match store
                .next_ready_at(&ClaimFilter::any_in_process())
                .await
                .expect("next ready")
            {
                Some(at) if at > now => {
                    now = at;
                    continue;
                }
                _ if dag.resolve_failures && resolve_blocking_steps(store, task_id, now).await => {
                    now += chrono::Duration::milliseconds(10);
                    continue;
                }
                _ => break,
            }
        }
        check_task(store, task_id, now).await;
        now += chrono::Duration::milliseconds(10);
        let mut lost = Vec::new();
        let mut outcomes = Vec::new();
        for c in &claimed {
            let index: usize = c.name[1..].parse().unwrap_or_default();
            let failed = failures.entry(c.name.clone()).or_default();
            let out_of_attempts = c.attempt >= c.max_attempts;
            outcomes.push(match dag.behaviours[index] {
                Behaviour::Succeed => success(c, json!({"step": c.name})),
                Behaviour::FailRetryably(k) if *failed < k => {
                    *failed += 1;
                    failure(c, (!out_of_attempts).then(|| now + secs(1)))
                }
                Behaviour::FailRetryably(_) => success(c, json!(null)),
                Behaviour::FailPermanently => failure(c, None),
                Behaviour::LoseLease if c.attempt == 1 => {
                    lost.push(c.clone());
                    continue;
                }
                Behaviour::LoseLease => success(c, json!("rescued")),
            });
        }
        // Not while leases are lost: the clock then jumps past every lease taken now.
        let handoff = Handoff {
            owner: "worker-1".into(),
            limit: if lost.is_empty() { dag.handoff } else { 0 },
            lease_expires_at: now + secs(LEASE_SECS),
            filter: ClaimFilter::any_in_process(),
        };
        let Completion {
            results,
            claimed: taken,
        } = store
            .complete_and_claim(&outcomes, now, Some(&handoff))
            .await
            .expect("complete");
        assert!(results.iter().all(|r| r.applied), "{results:?}");
        assert!(taken.len() <= handoff.limit as usize);
        handed_off = taken;
        if !lost.is_empty() {
            check_task(store, task_id, now).await;
            now = lost.iter().map(|c| c.lease_expires_at).max().unwrap_or(now) + secs(1);
            let expired = store
                .expired_leases(now, 100)
                .await
                .expect("expired leases");
            let mut expired_ids: Vec<_> = expired.iter().map(|e| e.step_id).collect();
            let mut lost_ids: Vec<_> = lost.iter().map(|c| c.step_id).collect();
            expired_ids.sort();
            lost_ids.sort();
            assert_eq!(expired_ids, lost_ids, "exactly the lost leases expire");
            let rescued: Vec<_> = lost
                .iter()
                .map(|c| {
                    let mut outcome = failure(c, Some(now));
                    outcome.lease_expired = true;
                    outcome
                })
                .collect();
            let results = store.complete_steps(&rescued, now).await.expect("rescue");
            assert!(results.iter().all(|r| r.applied), "{results:?}");
            let late: Vec<_> = lost.iter().map(|c| success(c, json!("late"))).collect();
            let results = store.complete_steps(&late, now).await.expect("late");
            assert!(
                results.iter().all(|r| !r.applied),
                "late reports are fenced out"
            );
        }
        rounds += 1;
        assert!(rounds < 1_000, "the run does not end");
    }

    let task = store.task(task_id).await.expect("task").expect("exists");
    assert!(
        matches!(task.state, State::Complete | State::Error),
        "task ends in {}",
        task.state
    );
    let steps = store.steps_of_task(task_id).await.expect("steps");
    assert!(steps.iter().all(|s| s.state != State::InProgress));
    // Every step runs unless something failed for good, and that failure (or an earlier one
    // that kept it from running) errors the task.
    let fails_for_good =
        |b: &Behaviour| matches!(b, Behaviour::FailPermanently | Behaviour::FailRetryably(3));
    let expected = if dag.behaviours.iter().any(fails_for_good) && !dag.resolve_failures {
        State::Error
    } else {
        State::Complete
    };
    assert_eq!(task.state, expected, "{dag:?}");
    if task.state == State::Complete {
        for (step, behaviour) in steps.iter().zip(&dag.behaviours) {
            let attempts = match behaviour {
                // Resolved by hand after its last failure: counted by the history checks.
                b if fails_for_good(b) => continue,
                Behaviour::FailRetryably(k) => 1 + k,
                Behaviour::LoseLease => 2,
                Behaviour::Succeed | Behaviour::FailPermanently => 1,
            };
            assert_eq!(step.attempts, attempts, "attempts of {}", step.name);
        }
    }
    // No step started before each of its parents completed.
    let history = store
        .step_transitions_of_task(task_id)
        .await
        .expect("history");
    let position =
        |pred: &dyn Fn(&tasker_model::TransitionRecord) -> bool| history.iter().position(pred);
    for &(p, c) in &dag.edges {
        let (parent, child) = (&steps[p], &steps[c]);
        if let Some(started) =
            position(&|t| t.owner_id == child.id && t.to_state == State::InProgress)
        {
            let done = position(&|t| t.owner_id == parent.id && t.to_state.satisfies_dependents());
            assert!(
                done.is_some_and(|d| d < started),
                "{} started before parent {} finished",
                child.name,
                parent.name
            );
        }
    }
    now + secs(3_600)
}

/// Resolve every step of the task that failed for good; whether there was one.
async fn resolve_blocking_steps(store: &dyn Store, task_id: TaskId, now: Timestamp) -> bool {
    let steps = store.steps_of_task(task_id).await.expect("steps");
    let blocking: Vec<_> = steps
        .iter()
        .filter(|s| {
            s.state == State::Error
                && !tasker_model::backoff::retry_eligible(s.attempts, s.max_attempts, s.retryable)
        })
        .collect();
    for step in &blocking {
        let resolved = store
            .resolve_step(step.id, now, None)
            .await
            .expect("resolve");
        assert_eq!(resolved.state, State::ResolvedManually);
    }
    !blocking.is_empty()
}

/// `cases` random runs on one store (tasks are independent; time moves forward between runs).
pub async fn random_dags_run_to_a_consistent_end(store: Arc<dyn Store>) {
    random_dags(store, 24).await;
}

/// Runs `cases` random DAGs to the end, checking the store's readiness against the model's at every
/// step.
pub async fn random_dags(store: Arc<dyn Store>, cases: u32) {
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let next_start = Cell::new(t0());
        runner
            .run(&dag(), |dag| {
                let end = handle.block_on(drive(&*store, &dag, next_start.get()));
                next_start.set(end);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    });
}
