//! Routes: a claim takes only the steps its filter admits (queue and handlers), per handler
//! oldest first whatever the backlog of others; the hand-off and `next_ready_at` follow the
//! filter; advertisements say who runs what.

use super::fixture::{
    LEASE_SECS, check_task, claim_filtered, create, filtered_request, names, new_task,
    routed_layout, secs, step_named, success, t0, template,
};
use crate::{ANY_HANDLER, ClaimFilter, HandlerRoute, Handoff, Store};
use serde_json::json;
use std::sync::Arc;
use tasker_model::State;

/// A route for `advertised_routes`.
fn route(queue: Option<&str>, handler: &str) -> HandlerRoute {
    HandlerRoute {
        queue: queue.map(str::to_owned),
        handler: handler.to_owned(),
    }
}

/// Issue 13: 10,000 runnable steps of handler A do not delay the one step of handler B for a
/// claimer that has B; a claimer with both takes the oldest.
pub async fn a_backlog_of_one_handler_does_not_starve_another(store: Arc<dyn Store>) {
    let step_names: Vec<String> = (0..100).map(|i| format!("a{i}")).collect();
    let steps: Vec<(&str, &str, Option<&str>)> = step_names
        .iter()
        .map(|name| (name.as_str(), "A", None))
        .collect();
    let backlog = routed_layout(&steps, &[]);
    let template_id = template(&*store).await;
    let tasks: Vec<_> = (0..100).map(|_| new_task(template_id, &backlog)).collect();
    let created = store.create_tasks(&tasks, t0()).await.expect("create");
    assert_eq!(created.len(), 100);
    let lone = create(
        &*store,
        &routed_layout(&[("b", "B", None)], &[]),
        t0() + secs(1),
    )
    .await;
    let now = t0() + secs(2);
    assert_eq!(
        store
            .count_runnable_steps(now, 20_000)
            .await
            .expect("count"),
        10_001
    );

    let only_b = claim_filtered(&*store, ClaimFilter::in_process(["B"]), 1, now).await;
    assert_eq!(names(&only_b), ["b"]);
    assert_eq!(only_b[0].task_id, lone);
    assert_eq!(only_b[0].handler, "B");
    check_task(&*store, lone, now).await;

    let both = claim_filtered(&*store, ClaimFilter::in_process(["A", "B"]), 1, now).await;
    assert_eq!(
        names(&both),
        ["a0"],
        "the oldest runnable step of either handler"
    );
    assert_eq!(both[0].task_id, created[0].id);
    assert_eq!(both[0].handler, "A");
    assert!(
        claim_filtered(&*store, ClaimFilter::in_process(["B"]), 10, now)
            .await
            .is_empty(),
        "B has nothing left"
    );
}

/// In-process claims never take queue steps; a queue claim never takes in-process steps or
/// another queue's, even when those are older.
pub async fn claims_keep_to_their_queue(store: Arc<dyn Store>) {
    let on_q2 = create(
        &*store,
        &routed_layout(&[("q2_x", "x", Some("q2"))], &[]),
        t0(),
    )
    .await;
    let on_q1 = create(
        &*store,
        &routed_layout(&[("q1_x", "x", Some("q1")), ("q1_y", "y", Some("q1"))], &[]),
        t0() + secs(1),
    )
    .await;
    let local = create(
        &*store,
        &routed_layout(&[("local_x", "x", None), ("local_y", "y", None)], &[]),
        t0() + secs(2),
    )
    .await;
    let now = t0() + secs(3);

    assert!(
        claim_filtered(
            &*store,
            ClaimFilter::in_process(Vec::<String>::new()),
            10,
            now
        )
        .await
        .is_empty(),
        "a filter without handlers admits nothing"
    );
    assert!(
        claim_filtered(&*store, ClaimFilter::queue("q3", None), 10, now)
            .await
            .is_empty(),
        "a queue with no steps"
    );
    let in_process = claim_filtered(&*store, ClaimFilter::in_process(["x"]), 10, now).await;
    assert_eq!(names(&in_process), ["local_x"]);
    let q1 = claim_filtered(
        &*store,
        ClaimFilter::queue("q1", Some(vec!["x".into()])),
        10,
        now,
    )
    .await;
    assert_eq!(names(&q1), ["q1_x"]);
    let q1_rest = claim_filtered(&*store, ClaimFilter::queue("q1", None), 10, now).await;
    assert_eq!(names(&q1_rest), ["q1_y"]);
    let local_rest = claim_filtered(&*store, ClaimFilter::any_in_process(), 10, now).await;
    assert_eq!(names(&local_rest), ["local_y"]);
    let q2 = claim_filtered(&*store, ClaimFilter::queue("q2", None), 10, now).await;
    assert_eq!(names(&q2), ["q2_x"]);
    for task in [on_q2, on_q1, local] {
        check_task(&*store, task, now).await;
    }
}

/// A worker that takes anything on its queue gets every handler's steps, oldest first across
/// handlers, up to its limit.
pub async fn a_queue_claim_without_handlers_takes_any_handler_oldest_first(store: Arc<dyn Store>) {
    let q = Some("q");
    create(&*store, &routed_layout(&[("local", "a", None)], &[]), t0()).await;
    create(
        &*store,
        &routed_layout(&[("c1", "c", q)], &[]),
        t0() + secs(1),
    )
    .await;
    create(
        &*store,
        &routed_layout(&[("a1", "a", q), ("b1", "b", q)], &[]),
        t0() + secs(2),
    )
    .await;
    create(
        &*store,
        &routed_layout(&[("b2", "b", q)], &[]),
        t0() + secs(3),
    )
    .await;
    create(
        &*store,
        &routed_layout(&[("c2", "c", q)], &[]),
        t0() + secs(4),
    )
    .await;
    // Not runnable yet at `now`.
    create(
        &*store,
        &routed_layout(&[("a2", "a", q)], &[]),
        t0() + secs(60),
    )
    .await;
    let now = t0() + secs(5);

    let first = claim_filtered(&*store, ClaimFilter::queue("q", None), 2, now).await;
    assert_eq!(names(&first), ["c1", "a1"]);
    let rest = claim_filtered(&*store, ClaimFilter::queue("q", None), 10, now).await;
    assert_eq!(names(&rest), ["b1", "b2", "c2"]);
    let handlers: Vec<&str> = rest.iter().map(|c| c.handler.as_str()).collect();
    assert_eq!(handlers, ["b", "b", "c"]);
    assert!(
        claim_filtered(&*store, ClaimFilter::queue("q", None), 10, now)
            .await
            .is_empty()
    );
    let later = claim_filtered(&*store, ClaimFilter::queue("q", None), 10, t0() + secs(60)).await;
    assert_eq!(names(&later), ["a2"]);
    assert_eq!(
        names(&claim_filtered(&*store, ClaimFilter::any_in_process(), 10, now).await),
        ["local"]
    );
}

/// The hand-off claims only the released children its filter admits; the others stay runnable
/// for a claimer that has their route.
pub async fn the_handoff_claims_only_admitted_children(store: Arc<dyn Store>) {
    let fan = routed_layout(
        &[
            ("a", "h1", None),
            ("b", "h1", None),
            ("c", "h2", None),
            ("d", "h1", Some("q")),
        ],
        &[("a", "b"), ("a", "c"), ("a", "d")],
    );
    let task_id = create(&*store, &fan, t0()).await;
    let mine = ClaimFilter::in_process(["h1"]);
    let roots = claim_filtered(&*store, mine.clone(), 10, t0()).await;
    assert_eq!(names(&roots), ["a"]);
    let now = t0() + secs(1);
    let done = store
        .complete_and_claim(
            &[success(&roots[0], json!(1))],
            now,
            Some(&Handoff {
                owner: "worker-1".into(),
                limit: 10,
                lease_expires_at: now + secs(LEASE_SECS),
                filter: mine,
            }),
        )
        .await
        .expect("complete and claim");
    assert!(done.results[0].applied);
    assert_eq!(done.results[0].released_steps.len(), 3);
    assert_eq!(names(&done.claimed), ["b"]);
    assert_eq!(done.claimed[0].handler, "h1");
    for name in ["c", "d"] {
        let step = step_named(&*store, task_id, name).await;
        assert_eq!(step.state, State::Pending, "{name}");
        assert_eq!(step.ready_at, Some(now), "{name} stays runnable");
    }
    check_task(&*store, task_id, now).await;
    let c = claim_filtered(&*store, ClaimFilter::in_process(["h2"]), 10, now).await;
    assert_eq!(names(&c), ["c"]);
    let d = claim_filtered(&*store, ClaimFilter::queue("q", None), 10, now).await;
    assert_eq!(names(&d), ["d"]);
    check_task(&*store, task_id, now).await;
}

/// A claim for one task takes only the steps of that task its filter admits.
pub async fn a_claim_for_one_task_follows_the_filter(store: Arc<dyn Store>) {
    let wide = routed_layout(
        &[("x", "h1", None), ("y", "h2", None), ("z", "h1", Some("q"))],
        &[],
    );
    let task_id = create(&*store, &wide, t0()).await;
    let now = t0() + secs(1);
    let for_task = |filter| crate::ClaimRequest {
        only_task: Some(task_id),
        ..filtered_request(filter, 10, now)
    };
    let claim = |filter| {
        let store = Arc::clone(&store);
        let request = for_task(filter);
        async move { store.claim_steps(&request).await.expect("claim") }
    };
    assert_eq!(names(&claim(ClaimFilter::in_process(["h1"])).await), ["x"]);
    assert!(claim(ClaimFilter::queue("other", None)).await.is_empty());
    assert_eq!(names(&claim(ClaimFilter::any_in_process()).await), ["y"]);
    assert_eq!(names(&claim(ClaimFilter::queue("q", None)).await), ["z"]);
    check_task(&*store, task_id, now).await;
}

/// `next_ready_at` considers only the steps the filter admits.
pub async fn next_ready_at_follows_the_filter(store: Arc<dyn Store>) {
    let next = |filter: ClaimFilter| {
        let store = Arc::clone(&store);
        async move { store.next_ready_at(&filter).await.expect("next ready") }
    };
    assert_eq!(next(ClaimFilter::any_in_process()).await, None);
    create(
        &*store,
        &routed_layout(&[("a", "a", None)], &[]),
        t0() + secs(5),
    )
    .await;
    create(
        &*store,
        &routed_layout(&[("b", "b", None)], &[]),
        t0() + secs(2),
    )
    .await;
    create(
        &*store,
        &routed_layout(&[("qa", "a", Some("q"))], &[]),
        t0() + secs(1),
    )
    .await;

    assert_eq!(
        next(ClaimFilter::in_process(["a"])).await,
        Some(t0() + secs(5))
    );
    assert_eq!(
        next(ClaimFilter::in_process(["b"])).await,
        Some(t0() + secs(2))
    );
    assert_eq!(
        next(ClaimFilter::in_process(["a", "b"])).await,
        Some(t0() + secs(2))
    );
    assert_eq!(
        next(ClaimFilter::any_in_process()).await,
        Some(t0() + secs(2))
    );
    assert_eq!(
        next(ClaimFilter::queue("q", None)).await,
        Some(t0() + secs(1))
    );
    assert_eq!(
        next(ClaimFilter::queue("q", Some(vec!["b".into()]))).await,
        None
    );
    assert_eq!(next(ClaimFilter::queue("other", None)).await, None);
    assert_eq!(next(ClaimFilter::in_process(["missing"])).await, None);
    assert_eq!(
        next(ClaimFilter::in_process(Vec::<String>::new())).await,
        None
    );
}

/// Advertised routes are found directly or through `*` on their queue, since a time; rows of
/// workers not seen since `forget_before` are forgotten.
pub async fn advertised_routes_are_found_and_forgotten(store: Arc<dyn Store>) {
    let wanted = vec![
        route(None, "a"),
        route(None, "c"),
        route(Some("q"), "x"),
        route(None, "a"),
        route(Some("r"), "x"),
        route(Some("q"), ANY_HANDLER),
    ];
    let found = |since| {
        let store = Arc::clone(&store);
        let wanted = wanted.clone();
        async move {
            store
                .advertised_routes(&wanted, since)
                .await
                .expect("advertised routes")
        }
    };
    assert!(found(t0()).await.is_empty());

    let handlers = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    store
        .advertise_handlers("w1", None, &handlers(&["a", "b", "a"]), t0(), t0())
        .await
        .expect("advertise");
    store
        .advertise_handlers(
            "w2",
            Some("q"),
            &handlers(&[ANY_HANDLER]),
            t0() + secs(10),
            t0(),
        )
        .await
        .expect("advertise");
    assert_eq!(
        found(t0()).await,
        [
            route(None, "a"),
            route(Some("q"), "x"),
            route(Some("q"), ANY_HANDLER)
        ],
        "input order, no duplicates; '*' covers every handler of its queue only"
    );
    assert_eq!(
        found(t0() + secs(5)).await,
        [route(Some("q"), "x"), route(Some("q"), ANY_HANDLER)],
        "w1 was last seen before"
    );

    // Seen again: its time moves on.
    store
        .advertise_handlers("w1", None, &handlers(&["a"]), t0() + secs(20), t0())
        .await
        .expect("advertise again");
    assert_eq!(
        found(t0() + secs(15)).await,
        [route(None, "a")],
        "w1's a seen again, w2 not since"
    );

    // A new worker forgets every row last seen before t0 + 15 s: w2 and w1's "b".
    store
        .advertise_handlers(
            "w3",
            None,
            &handlers(&["c"]),
            t0() + secs(30),
            t0() + secs(15),
        )
        .await
        .expect("advertise and forget");
    assert_eq!(
        found(t0() - secs(3600)).await,
        [route(None, "a"), route(None, "c")]
    );
    assert!(
        store
            .advertised_routes(&[route(None, "b")], t0() - secs(3600))
            .await
            .expect("advertised routes")
            .is_empty(),
        "w1's b was forgotten"
    );
}

/// A step's handler and queue come back on its record and on its claim.
pub async fn routes_round_trip_on_steps_and_claims(store: Arc<dyn Store>) {
    let mixed = routed_layout(
        &[
            ("local", "charge", None),
            ("remote", "ship", Some("shipping")),
        ],
        &[("local", "remote")],
    );
    let task_id = create(&*store, &mixed, t0()).await;
    let steps = store.steps_of_task(task_id).await.expect("steps");
    let routes: Vec<(&str, Option<&str>)> = steps
        .iter()
        .map(|s| (s.handler.as_str(), s.queue.as_deref()))
        .collect();
    assert_eq!(routes, [("charge", None), ("ship", Some("shipping"))]);
    let remote = store
        .step(steps[1].id)
        .await
        .expect("step")
        .expect("exists");
    assert_eq!(
        (remote.handler.as_str(), remote.queue.as_deref()),
        ("ship", Some("shipping"))
    );

    let now = t0() + secs(1);
    let local = claim_filtered(&*store, ClaimFilter::in_process(["charge"]), 10, now).await;
    assert_eq!(names(&local), ["local"]);
    assert_eq!(local[0].handler, "charge");
    super::fixture::complete(&*store, success(&local[0], json!(1)), now).await;
    let remote = claim_filtered(&*store, ClaimFilter::queue("shipping", None), 10, now).await;
    assert_eq!(names(&remote), ["remote"]);
    assert_eq!(remote[0].handler, "ship");
    assert_eq!(remote[0].parent_results, [("local".to_string(), json!(1))]);
    let finished = step_named(&*store, task_id, "local").await;
    assert_eq!(
        (finished.handler.as_str(), finished.queue),
        ("charge", None),
        "a finished step keeps its route"
    );
    check_task(&*store, task_id, now).await;
}
