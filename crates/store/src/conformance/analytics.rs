//! Analytics over finished tasks: counts per bucket, the newest finished tasks and their
//! steps' times, on a fixed time line. `completed_at` is when a task reached complete, error
//! or cancelled.

use super::fixture::{
    claim_request, complete, failure, layout, new_task, new_template, secs, success, t0, template,
};
use crate::{ClaimedStep, FinishedCount, FinishedQuery, Store};
use serde_json::json;
use std::sync::Arc;
use tasker_model::{State, TaskId, TemplateId, Timestamp};

/// Claim the runnable steps of one task only.
async fn claim_of(store: &dyn Store, task_id: TaskId, now: Timestamp) -> Vec<ClaimedStep> {
    let mut request = claim_request("worker-1", 10, now);
    request.only_task = Some(task_id);
    store.claim_steps(&request).await.expect("claim")
}

async fn create_at(
    store: &dyn Store,
    template_id: TemplateId,
    steps: &[&str],
    edges: &[(&str, &str)],
    at: Timestamp,
) -> TaskId {
    store
        .create_tasks(&[new_task(template_id, &layout(steps, edges))], at)
        .await
        .expect("create")[0]
        .id
}

/// Run the one step of `task_id` from `start` to `end`, with success or a permanent failure.
async fn run_one(store: &dyn Store, task_id: TaskId, start: Timestamp, end: Timestamp, ok: bool) {
    let claimed = claim_of(store, task_id, start).await.remove(0);
    let outcome = if ok {
        success(&claimed, json!(null))
    } else {
        failure(&claimed, None)
    };
    assert!(complete(store, outcome, end).await.applied);
}

fn query(
    since: Timestamp,
    until: Timestamp,
    template_ids: &[TemplateId],
    limit: u32,
) -> FinishedQuery {
    FinishedQuery {
        since,
        until,
        template_ids: template_ids.to_vec(),
        limit,
    }
}

async fn other_template(store: &dyn Store) -> TemplateId {
    store
        .register_template(&new_template("other", "1.0.0"), t0())
        .await
        .expect("register")
        .id
}

fn count(at: Timestamp, complete: i64, error: i64, cancelled: i64, steps: i64) -> FinishedCount {
    FinishedCount {
        bucket_start: at,
        tasks_complete: complete,
        tasks_error: error,
        tasks_cancelled: cancelled,
        steps,
    }
}

/// Checks that finished tasks are counted per bucket.
pub async fn finished_tasks_are_counted_per_bucket(store: Arc<dyn Store>) {
    let flow = template(&*store).await;
    let other = other_template(&*store).await;
    // t0 is a whole hour since the epoch, so buckets of a minute or an hour start there.
    let complete_early = create_at(&*store, flow, &["a"], &[], t0()).await;
    run_one(
        &*store,
        complete_early,
        t0() + secs(1),
        t0() + secs(10),
        true,
    )
    .await;
    let failed = create_at(&*store, flow, &["a"], &[], t0()).await;
    run_one(&*store, failed, t0() + secs(60), t0() + secs(70), false).await;
    let cancelled = create_at(&*store, other, &["a", "b"], &[], t0()).await;
    store
        .cancel_task(cancelled, t0() + secs(65), None)
        .await
        .expect("cancel");
    let _unfinished = create_at(&*store, flow, &["a"], &[], t0()).await;
    let late = create_at(&*store, flow, &["a", "b"], &[("a", "b")], t0()).await;
    for at in [3_600, 3_601] {
        let claimed = claim_of(&*store, late, t0() + secs(at)).await.remove(0);
        complete(&*store, success(&claimed, json!(1)), t0() + secs(at)).await;
    }

    // A task retried out of error is not finished until it finishes again.
    let retried = create_at(&*store, flow, &["a"], &[], t0()).await;
    run_one(&*store, retried, t0() + secs(100), t0() + secs(110), false).await;
    let in_error = store.task(retried).await.expect("task").expect("exists");
    assert_eq!(
        (in_error.state, in_error.completed_at),
        (State::Error, Some(t0() + secs(110)))
    );
    store
        .retry_task(retried, t0() + secs(115), None)
        .await
        .expect("retry");
    let again = store.task(retried).await.expect("task").expect("exists");
    assert_eq!((again.state, again.completed_at), (State::InProgress, None));
    let cancelled_at = store.task(cancelled).await.expect("task").expect("exists");
    assert_eq!(cancelled_at.completed_at, Some(t0() + secs(65)));
    assert_eq!(
        store
            .finished_counts(t0(), t0() + secs(7_200), 60)
            .await
            .expect("counts"),
        [
            count(t0(), 1, 0, 0, 1),
            count(t0() + secs(60), 0, 1, 1, 3),
            count(t0() + secs(3_600), 1, 0, 0, 2),
        ]
    );
    run_one(&*store, retried, t0() + secs(130), t0() + secs(140), true).await;

    let counts = |since: i64, until: i64, bucket: i64| {
        let store = Arc::clone(&store);
        async move {
            store
                .finished_counts(t0() + secs(since), t0() + secs(until), bucket)
                .await
                .expect("counts")
        }
    };
    assert_eq!(
        counts(0, 7_200, 60).await,
        [
            count(t0(), 1, 0, 0, 1),
            count(t0() + secs(60), 0, 1, 1, 3),
            count(t0() + secs(120), 1, 0, 0, 1),
            count(t0() + secs(3_600), 1, 0, 0, 2),
        ]
    );
    assert_eq!(
        counts(0, 7_200, 3_600).await,
        [
            count(t0(), 2, 1, 1, 5),
            count(t0() + secs(3_600), 1, 0, 0, 2)
        ]
    );
    // since is inclusive, until exclusive; buckets stay aligned to the epoch, not to since.
    assert_eq!(
        counts(10, 70, 60).await,
        [count(t0(), 1, 0, 0, 1), count(t0() + secs(60), 0, 0, 1, 2)]
    );
    assert_eq!(counts(3_602, 7_200, 60).await, []);
    assert!(
        store
            .finished_counts(t0(), t0() + secs(60), 0)
            .await
            .is_err()
    );
}

/// Checks that finished tasks are newest first by template with a limit.
pub async fn finished_tasks_are_newest_first_by_template_with_a_limit(store: Arc<dyn Store>) {
    let flow = template(&*store).await;
    let other = other_template(&*store).await;
    let a = create_at(&*store, flow, &["s"], &[], t0()).await;
    let b = create_at(&*store, other, &["s"], &[], t0() + secs(1)).await;
    let c = create_at(&*store, flow, &["s"], &[], t0() + secs(2)).await;
    let d = create_at(&*store, flow, &["s"], &[], t0() + secs(3)).await;
    run_one(&*store, a, t0() + secs(5), t0() + secs(30), true).await;
    run_one(&*store, b, t0() + secs(5), t0() + secs(20), false).await;
    // c and d finish at the same time: the higher id counts as newer.
    run_one(&*store, c, t0() + secs(5), t0() + secs(10), true).await;
    run_one(&*store, d, t0() + secs(5), t0() + secs(10), true).await;
    let unfinished = create_at(&*store, flow, &["s"], &[], t0()).await;

    let ids = |q: FinishedQuery| {
        let store = Arc::clone(&store);
        async move {
            store
                .finished_tasks(&q)
                .await
                .expect("finished")
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        }
    };
    let (start, end) = (t0(), t0() + secs(60));
    assert_eq!(ids(query(start, end, &[], 10)).await, [a, b, d, c]);
    assert_eq!(ids(query(start, end, &[], 2)).await, [a, b]);
    assert_eq!(ids(query(start, end, &[flow], 10)).await, [a, d, c]);
    assert_eq!(ids(query(start, end, &[flow], 2)).await, [a, d]);
    assert_eq!(ids(query(start, end, &[other], 10)).await, [b]);
    assert_eq!(ids(query(start, end, &[other, flow], 3)).await, [a, b, d]);
    assert_eq!(
        ids(query(t0() + secs(10), t0() + secs(30), &[], 10)).await,
        [b, d, c]
    );
    assert_eq!(ids(query(start, end, &[], 0)).await, Vec::<TaskId>::new());
    assert!(!ids(query(start, end, &[], 10)).await.contains(&unfinished));

    let all = store
        .finished_tasks(&query(start, end, &[], 10))
        .await
        .expect("finished");
    let first = &all[0];
    assert_eq!(
        (
            first.template_id,
            first.state,
            first.created_at,
            first.completed_at,
            first.steps_total
        ),
        (flow, State::Complete, t0(), t0() + secs(30), 1)
    );
    assert_eq!(
        (all[1].state, all[1].completed_at),
        (State::Error, t0() + secs(20))
    );
}

/// Checks that step samples time the last attempt of each step.
pub async fn step_samples_time_the_last_attempt_of_each_step(store: Arc<dyn Store>) {
    let flow = template(&*store).await;
    let other = other_template(&*store).await;
    // a fails once and runs again; b runs after it.
    let chain = create_at(&*store, flow, &["a", "b"], &[("a", "b")], t0()).await;
    let a = claim_of(&*store, chain, t0() + secs(2)).await.remove(0);
    complete(&*store, failure(&a, Some(t0() + secs(5))), t0() + secs(3)).await;
    let a = claim_of(&*store, chain, t0() + secs(6)).await.remove(0);
    complete(&*store, success(&a, json!(1)), t0() + secs(9)).await;
    let b = claim_of(&*store, chain, t0() + secs(10)).await.remove(0);
    complete(&*store, success(&b, json!(2)), t0() + secs(12)).await;
    // x fails for good while y succeeds: the task ends in error.
    let pair = create_at(&*store, other, &["x", "y"], &[], t0()).await;
    let claimed = claim_of(&*store, pair, t0() + secs(15)).await;
    complete(&*store, success(&claimed[1], json!(3)), t0() + secs(16)).await;
    complete(&*store, failure(&claimed[0], None), t0() + secs(20)).await;
    // Cancelled before anything ran.
    let idle = create_at(&*store, flow, &["p"], &[], t0()).await;
    store
        .cancel_task(idle, t0() + secs(30), None)
        .await
        .expect("cancel");

    let samples = |q: FinishedQuery| {
        let store = Arc::clone(&store);
        async move {
            store
                .finished_step_samples(&q)
                .await
                .expect("samples")
                .into_iter()
                .map(|s| {
                    assert_eq!(s.template_id, if s.task_id == pair { other } else { flow });
                    (
                        s.task_id,
                        s.name,
                        s.state,
                        s.attempts,
                        s.duration_ms,
                        s.wait_ms,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let (start, end) = (t0(), t0() + secs(60));
    let expected = vec![
        (idle, "p".to_owned(), State::Cancelled, 0, None, None),
        (
            pair,
            "x".to_owned(),
            State::Error,
            1,
            Some(5_000),
            Some(15_000),
        ),
        (
            pair,
            "y".to_owned(),
            State::Complete,
            1,
            Some(1_000),
            Some(15_000),
        ),
        (
            chain,
            "a".to_owned(),
            State::Complete,
            2,
            Some(3_000),
            Some(1_000),
        ),
        (
            chain,
            "b".to_owned(),
            State::Complete,
            1,
            Some(2_000),
            Some(1_000),
        ),
    ];
    assert_eq!(samples(query(start, end, &[], 10)).await, expected);
    assert_eq!(samples(query(start, end, &[], 2)).await, expected[..3]);
    assert_eq!(
        samples(query(start, end, &[other], 10)).await,
        expected[1..3]
    );
    assert_eq!(
        samples(query(start, end, &[flow], 10)).await,
        [&expected[..1], &expected[3..]].concat()
    );
    assert_eq!(
        samples(query(t0() + secs(12), t0() + secs(20), &[], 10)).await,
        expected[3..]
    );
}
