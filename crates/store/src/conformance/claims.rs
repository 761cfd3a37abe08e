//! Claiming: which steps, in what order, under what lease, and what the handler gets.

use super::fixture::{
    LEASE_SECS, assert_claimed_by, check_task, claim, claim_request, complete, create, layout,
    names, secs, step_named, success, t0, task_state,
};
use crate::Store;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use tasker_model::State;

/// Checks that claim takes ready steps oldest first.
pub async fn claim_takes_ready_steps_oldest_first(store: Arc<dyn Store>) {
    let chain = layout(&["a", "b"], &[("a", "b")]);
    let first = create(&*store, &chain, t0()).await;
    let second = create(&*store, &layout(&["x"], &[]), t0() + secs(1)).await;

    assert!(
        claim(&*store, 10, t0() - secs(1)).await.is_empty(),
        "nothing is ready before its time"
    );
    let now = t0() + secs(2);
    let claimed = claim(&*store, 10, now).await;
    assert_eq!(names(&claimed), ["a", "x"]);
    assert_eq!((claimed[0].task_id, claimed[1].task_id), (first, second));
    for c in &claimed {
        assert_eq!(c.attempt, 1);
        assert_eq!(c.max_attempts, 3);
        assert!(c.retryable);
        assert!(c.task_started);
        assert_eq!(c.lease_expires_at, now + secs(LEASE_SECS));
        assert_eq!(*c.task_context, json!({"order": 42}));
        assert_eq!(c.inputs, Some(json!({"step": c.name})));
        assert!(c.parent_results.is_empty());
    }
    assert_claimed_by(&*store, &claimed[0], "worker-1", now).await;

    assert_eq!(task_state(&*store, first).await, State::InProgress);
    let started = store
        .current_task_transition(first)
        .await
        .expect("task history")
        .expect("a current transition");
    assert_eq!(
        (started.from_state, started.to_state),
        (Some(State::Pending), State::InProgress)
    );
    assert_eq!(
        started.metadata,
        json!({"worker": "worker-1"}),
        "the task's start names the claimer"
    );
    assert!(
        claim(&*store, 10, now).await.is_empty(),
        "b waits for a; nothing twice"
    );
    check_task(&*store, first, now).await;
    check_task(&*store, second, now).await;
}

/// Checks that claim respects the limit and never claims twice.
pub async fn claim_respects_the_limit_and_never_claims_twice(store: Arc<dyn Store>) {
    let wide = layout(&["s1", "s2", "s3", "s4", "s5"], &[]);
    let task_id = create(&*store, &wide, t0()).await;
    let first = claim(&*store, 2, t0()).await;
    assert_eq!(names(&first), ["s1", "s2"]);
    assert!(first[0].task_started);
    assert!(
        !first[1].task_started,
        "task_started only on the task's first claim"
    );
    let rest = claim(&*store, 10, t0()).await;
    assert_eq!(names(&rest), ["s3", "s4", "s5"]);
    assert!(rest.iter().all(|c| !c.task_started));
    assert!(claim(&*store, 10, t0() + secs(1)).await.is_empty());
    let history = store.task_transitions(task_id).await.expect("history");
    let states: Vec<State> = history.iter().map(|t| t.to_state).collect();
    assert_eq!(states, [State::Pending, State::InProgress]);
    check_task(&*store, task_id, t0()).await;
}

/// Checks that parent results reach the child.
pub async fn parent_results_reach_the_child(store: Arc<dyn Store>) {
    let join = layout(&["a", "b", "c"], &[("a", "c"), ("b", "c")]);
    let task_id = create(&*store, &join, t0()).await;
    let roots = claim(&*store, 10, t0()).await;
    assert_eq!(names(&roots), ["a", "b"]);
    let done = store
        .complete_steps(
            &[
                success(&roots[0], json!({"x": 1})),
                success(&roots[1], json!({"y": 2})),
            ],
            t0() + secs(1),
        )
        .await
        .expect("complete");
    assert!(done.iter().all(|r| r.applied));
    assert!(done[0].released_steps.is_empty());
    let child = store.steps_of_task(task_id).await.expect("steps")[2].id;
    assert_eq!(done[1].released_steps, vec![child]);
    let claimed = claim(&*store, 10, t0() + secs(1)).await;
    assert_eq!(names(&claimed), ["c"]);
    assert_eq!(
        claimed[0].parent_results,
        vec![
            ("a".to_string(), json!({"x": 1})),
            ("b".to_string(), json!({"y": 2}))
        ]
    );
    check_task(&*store, task_id, t0() + secs(1)).await;
}

/// Checks that concurrent claimers get disjoint steps.
pub async fn concurrent_claimers_get_disjoint_steps(store: Arc<dyn Store>) {
    let names: Vec<String> = (0..40).map(|i| format!("s{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let wide = layout(&refs, &[]);
    let task_id = create(&*store, &wide, t0()).await;
    let claimer = |owner: &'static str| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_steps(&claim_request(owner, 3, t0()))
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|c| c.step_id));
                tokio::task::yield_now().await;
            }
        })
    };
    let (one, two) = (claimer("worker-1"), claimer("worker-2"));
    let (one, two) = (one.await.expect("join"), two.await.expect("join"));
    let all: HashSet<i64> = one.iter().chain(&two).copied().collect();
    assert_eq!(one.len() + two.len(), 40, "every step claimed exactly once");
    assert_eq!(all.len(), 40);
    check_task(&*store, task_id, t0()).await;
}

/// Checks that diamond releases the join after both branches.
pub async fn diamond_releases_the_join_after_both_branches(store: Arc<dyn Store>) {
    let diamond = layout(
        &["a", "b", "c", "d"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    );
    let task_id = create(&*store, &diamond, t0()).await;
    let steps = store.steps_of_task(task_id).await.expect("steps");
    let id = |name: &str| {
        steps
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .unwrap_or_default()
    };

    let mut now = t0();
    let a = claim(&*store, 10, now).await;
    check_task(&*store, task_id, now).await;
    now += secs(1);
    let done = complete(&*store, success(&a[0], json!({"a": true})), now).await;
    assert!(done.applied);
    assert_eq!(done.task_id, task_id);
    let mut released = done.released_steps.clone();
    released.sort();
    assert_eq!(released, vec![id("b"), id("c")]);
    assert_eq!(done.task_finished, None);
    check_task(&*store, task_id, now).await;

    let branches = claim(&*store, 10, now).await;
    assert_eq!(names(&branches), ["b", "c"]);
    now += secs(1);
    let b = complete(&*store, success(&branches[0], json!("b")), now).await;
    assert!(b.applied && b.released_steps.is_empty());
    assert!(
        claim(&*store, 10, now).await.is_empty(),
        "d still waits for c"
    );
    check_task(&*store, task_id, now).await;
    let c = complete(&*store, success(&branches[1], json!("c")), now).await;
    assert_eq!(c.released_steps, vec![id("d")]);
    let d = claim(&*store, 10, now).await;
    assert_eq!(names(&d), ["d"]);
    now += secs(1);
    let last = complete(&*store, success(&d[0], Value::Null), now).await;
    assert_eq!(last.task_finished, Some(State::Complete));

    let task = store.task(task_id).await.expect("task").expect("exists");
    assert_eq!(task.state, State::Complete);
    assert_eq!((task.steps_remaining, task.completed_at), (0, Some(now)));
    let history = store.task_transitions(task_id).await.expect("history");
    let states: Vec<State> = history.iter().map(|t| t.to_state).collect();
    assert_eq!(states, [State::Pending, State::InProgress, State::Complete]);
    let a_step = store.step(id("a")).await.expect("step").expect("exists");
    assert_eq!(a_step.results, Some(json!({"a": true})));
    assert_eq!(a_step.state, State::Complete);
    let a_history: Vec<_> = store
        .step_transitions_of_task(task_id)
        .await
        .expect("history")
        .into_iter()
        .filter(|t| t.owner_id == id("a"))
        .collect();
    assert_eq!(a_history[2].metadata, json!({"attempt": 1}));
    check_task(&*store, task_id, now).await;
    let outstanding = store.outstanding_work().await.expect("outstanding");
    assert!(!outstanding.scheduled && !outstanding.running);
}

/// Issue 11: the steps of one task claimed together share one copy of its context.
pub async fn steps_of_a_task_claimed_together_share_its_context(store: Arc<dyn Store>) {
    let wide = layout(&["a", "b", "c"], &[]);
    let first = create(&*store, &wide, t0()).await;
    let second = create(&*store, &wide, t0()).await;
    let claimed = claim(&*store, 10, t0() + secs(1)).await;
    assert_eq!(claimed.len(), 6);
    for task in [first, second] {
        let of_task: Vec<_> = claimed.iter().filter(|c| c.task_id == task).collect();
        assert_eq!(of_task.len(), 3);
        for c in &of_task {
            assert_eq!(*c.task_context, json!({"order": 42}));
            assert!(
                Arc::ptr_eq(&c.task_context, &of_task[0].task_context),
                "step {} of task {task} has a copy of its own",
                c.name
            );
        }
    }
}

/// Issue 11: a claim limited to one task takes that task's runnable steps, oldest first, and
/// leaves every other task's alone, even older ones.
pub async fn a_claim_for_one_task_takes_only_its_steps(store: Arc<dyn Store>) {
    let chain = layout(&["a", "b"], &[("a", "b")]);
    let wide = layout(&["x", "y", "z"], &[]);
    let other = create(&*store, &wide, t0()).await;
    let mine = create(&*store, &chain, t0() + secs(1)).await;
    let now = t0() + secs(2);
    let request = |limit| crate::ClaimRequest {
        only_task: Some(mine),
        ..claim_request("worker-1", limit, now)
    };
    let claimed = store.claim_steps(&request(10)).await.expect("claim");
    assert_eq!(names(&claimed), ["a"]);
    assert_eq!(claimed[0].task_id, mine);
    assert!(claimed[0].task_started);
    assert_claimed_by(&*store, &claimed[0], "worker-1", now).await;
    assert!(
        store
            .claim_steps(&request(10))
            .await
            .expect("claim")
            .is_empty(),
        "b waits for a; x, y and z belong to another task"
    );
    complete(&*store, success(&claimed[0], json!({})), now).await;
    let claimed = store.claim_steps(&request(10)).await.expect("claim");
    assert_eq!(names(&claimed), ["b"]);
    for name in ["x", "y", "z"] {
        let step = step_named(&*store, other, name).await;
        assert_eq!((step.state, step.attempts), (State::Pending, 0), "{name}");
    }
    assert_eq!(task_state(&*store, other).await, State::Pending);
    check_task(&*store, mine, now).await;
    check_task(&*store, other, now).await;
    // The unfiltered claim still finds the other task's steps.
    assert_eq!(names(&claim(&*store, 10, now).await), ["x", "y", "z"]);
}
