//! The SQL of the backend, one statement per file under `queries/`.

pub(crate) const BENCH_BARE_CLAIM: &str = include_str!("../queries/bench_bare_claim.sql");
pub(crate) const BENCH_BARE_COUNT_DOWN: &str = include_str!("../queries/bench_bare_count_down.sql");
pub(crate) const BENCH_BARE_CREATE: &str = include_str!("../queries/bench_bare_create.sql");
pub(crate) const BENCH_BARE_DONE: &str = include_str!("../queries/bench_bare_done.sql");
pub(crate) const BENCH_BARE_DROP: &str = include_str!("../queries/bench_bare_drop.sql");
pub(crate) const BENCH_BARE_JOIN: &str = include_str!("../queries/bench_bare_join.sql");
pub(crate) const BENCH_BARE_RELEASE: &str = include_str!("../queries/bench_bare_release.sql");
pub(crate) const BENCH_BARE_RESULT: &str = include_str!("../queries/bench_bare_result.sql");
pub(crate) const BENCH_BARE_STEP_HISTORY: &str =
    include_str!("../queries/bench_bare_step_history.sql");
pub(crate) const BENCH_BARE_TASK_HISTORY: &str =
    include_str!("../queries/bench_bare_task_history.sql");
pub(crate) const BENCH_QUEUE_CLAIM: &str = include_str!("../queries/bench_queue_claim.sql");
pub(crate) const BENCH_QUEUE_CREATE: &str = include_str!("../queries/bench_queue_create.sql");
pub(crate) const BENCH_QUEUE_DONE: &str = include_str!("../queries/bench_queue_done.sql");
pub(crate) const BENCH_QUEUE_DROP: &str = include_str!("../queries/bench_queue_drop.sql");
pub(crate) const BENCH_QUEUE_INSERT: &str = include_str!("../queries/bench_queue_insert.sql");
pub(crate) const BENCH_QUEUE_REPORT: &str = include_str!("../queries/bench_queue_report.sql");
pub(crate) const BENCH_SEED_EDGE: &str = include_str!("../queries/bench_seed_edge.sql");
pub(crate) const BENCH_SEED_STEP: &str = include_str!("../queries/bench_seed_step.sql");
pub(crate) const BENCH_SEED_STEP_HISTORY: &str =
    include_str!("../queries/bench_seed_step_history.sql");
pub(crate) const BENCH_SEED_TASK: &str = include_str!("../queries/bench_seed_task.sql");
pub(crate) const BENCH_SEED_TASK_HISTORY: &str =
    include_str!("../queries/bench_seed_task_history.sql");
pub(crate) const BENCH_STEPS_BY_STATE: &str = include_str!("../queries/bench_steps_by_state.sql");
pub(crate) const BENCH_TABLE_COUNTS: &str = include_str!("../queries/bench_table_counts.sql");
pub(crate) const DATABASE_TIME: &str = include_str!("../queries/database_time.sql");
pub(crate) const FORGET_WORKERS: &str = include_str!("../queries/forget_workers.sql");
pub(crate) const FINISHED_COUNTS: &str = include_str!("../queries/finished_counts.sql");
pub(crate) const FINISHED_TASKS: &str = include_str!("../queries/finished_tasks.sql");
pub(crate) const FINISHED_TASKS_BY_TEMPLATE: &str =
    include_str!("../queries/finished_tasks_by_template.sql");
pub(crate) const LEASE_TASK: &str = include_str!("../queries/lease_task.sql");
pub(crate) const ADVERTISE_HANDLER: &str = include_str!("../queries/advertise_handler.sql");
pub(crate) const CANCELLABLE_STEPS: &str = include_str!("../queries/cancellable_steps.sql");
pub(crate) const CLAIM_STEP: &str = include_str!("../queries/claim_step.sql");
pub(crate) const CLAIM_STEPS: &str = include_str!("../queries/claim_steps.sql");
pub(crate) const CLAIM_TASK_STEPS: &str = include_str!("../queries/claim_task_steps.sql");
pub(crate) const COMPLETE_STEP_FAILURE: &str = include_str!("../queries/complete_step_failure.sql");
pub(crate) const COMPLETE_STEP_SUCCESS: &str = include_str!("../queries/complete_step_success.sql");
pub(crate) const COUNT_RUNNABLE_STEPS: &str = include_str!("../queries/count_runnable_steps.sql");
pub(crate) const CREATE_EDGES: &str = include_str!("../queries/create_edges.sql");
pub(crate) const CREATE_STEPS: &str = include_str!("../queries/create_steps.sql");
pub(crate) const CREATE_TASKS: &str = include_str!("../queries/create_tasks.sql");
pub(crate) const DESCRIBE: &str = include_str!("../queries/describe.sql");
pub(crate) const EXPIRED_LEASES: &str = include_str!("../queries/expired_leases.sql");
pub(crate) const FAILED_FOR_GOOD_STEPS: &str = include_str!("../queries/failed_for_good_steps.sql");
pub(crate) const LEASES_OF_OWNER: &str = include_str!("../queries/leases_of_owner.sql");
pub(crate) const MIGRATION_HISTORY_EXISTS: &str =
    include_str!("../queries/migration_history_exists.sql");
pub(crate) const NAMESPACE_ID: &str = include_str!("../queries/namespace_id.sql");
pub(crate) const NAMESPACE_UPSERT: &str = include_str!("../queries/namespace_upsert.sql");
pub(crate) const NEXT_READY_AT: &str = include_str!("../queries/next_ready_at.sql");
pub(crate) const OUTSTANDING_WORK: &str = include_str!("../queries/outstanding_work.sql");
pub(crate) const PARENT_RESULTS: &str = include_str!("../queries/parent_results.sql");
pub(crate) const PARENTS_OF_STEP: &str = include_str!("../queries/parents_of_step.sql");
pub(crate) const PARENTS_OF_TASK: &str = include_str!("../queries/parents_of_task.sql");
pub(crate) const QUEUE_HANDLERS: &str = include_str!("../queries/queue_handlers.sql");
pub(crate) const RELEASE_CHILDREN: &str = include_str!("../queries/release_children.sql");
pub(crate) const RELEASE_LEADERSHIP: &str = include_str!("../queries/release_leadership.sql");
pub(crate) const RELEASE_LEASE: &str = include_str!("../queries/release_lease.sql");
pub(crate) const RENEW_LEASES: &str = include_str!("../queries/renew_leases.sql");
pub(crate) const RETRY_STEP: &str = include_str!("../queries/retry_step.sql");
pub(crate) const ROUTE_ADVERTISED: &str = include_str!("../queries/route_advertised.sql");
pub(crate) const STEP_ROUTE: &str = include_str!("../queries/step_route.sql");
pub(crate) const STEP_SAMPLES: &str = include_str!("../queries/step_samples.sql");
pub(crate) const STEP_BY_ID: &str = include_str!("../queries/step_by_id.sql");
pub(crate) const STEP_MARK_READY: &str = include_str!("../queries/step_mark_ready.sql");
pub(crate) const STEP_RETRY_BUDGET: &str = include_str!("../queries/step_retry_budget.sql");
pub(crate) const STEP_SET_STATE: &str = include_str!("../queries/step_set_state.sql");
pub(crate) const STEP_TRANSITION_INSERT: &str =
    include_str!("../queries/step_transition_insert.sql");
pub(crate) const STEP_TRANSITIONS_OF_TASK: &str =
    include_str!("../queries/step_transitions_of_task.sql");
pub(crate) const STEPS_OF_TASK: &str = include_str!("../queries/steps_of_task.sql");
pub(crate) const TASK_ANY_RUNNING: &str = include_str!("../queries/task_any_running.sql");
pub(crate) const TASKS_LIST_BY_STATE: &str = include_str!("../queries/tasks_list_by_state.sql");
pub(crate) const TASKS_LIST_BY_TEMPLATE: &str =
    include_str!("../queries/tasks_list_by_template.sql");
pub(crate) const TASK_BY_ID: &str = include_str!("../queries/task_by_id.sql");
pub(crate) const TASK_CLEAR_READY: &str = include_str!("../queries/task_clear_ready.sql");
pub(crate) const TASK_EXISTS: &str = include_str!("../queries/task_exists.sql");
pub(crate) const TASK_FIND_IDENTITY: &str = include_str!("../queries/task_find_identity.sql");
pub(crate) const TASK_RESET_FAILED: &str = include_str!("../queries/task_reset_failed.sql");
pub(crate) const TASK_RESTORE_READY: &str = include_str!("../queries/task_restore_ready.sql");
pub(crate) const TASK_ROW: &str = include_str!("../queries/task_row.sql");
pub(crate) const TASK_CONTEXT: &str = include_str!("../queries/task_context.sql");
pub(crate) const TASK_SET_STATE: &str = include_str!("../queries/task_set_state.sql");
pub(crate) const TASK_STEP_FAILED: &str = include_str!("../queries/task_step_failed.sql");
pub(crate) const TASK_STEP_FINISHED: &str = include_str!("../queries/task_step_finished.sql");
pub(crate) const TASK_TRANSITION_CURRENT: &str =
    include_str!("../queries/task_transition_current.sql");
pub(crate) const TASK_TRANSITION_INSERT: &str =
    include_str!("../queries/task_transition_insert.sql");
pub(crate) const TASK_TRANSITIONS: &str = include_str!("../queries/task_transitions.sql");
pub(crate) const TASKS_COUNT_BY_STATE: &str = include_str!("../queries/tasks_count_by_state.sql");
pub(crate) const TASKS_LIST: &str = include_str!("../queries/tasks_list.sql");
pub(crate) const TEMPLATE_BY_ID: &str = include_str!("../queries/template_by_id.sql");
pub(crate) const TEMPLATE_BY_VERSION: &str = include_str!("../queries/template_by_version.sql");
pub(crate) const TEMPLATE_IDS_NAMED: &str = include_str!("../queries/template_ids_named.sql");
pub(crate) const TEMPLATE_EXISTS: &str = include_str!("../queries/template_exists.sql");
pub(crate) const TEMPLATE_INSERT: &str = include_str!("../queries/template_insert.sql");
pub(crate) const TEMPLATE_LATEST: &str = include_str!("../queries/template_latest.sql");
pub(crate) const TOKEN_ANY_ACTIVE: &str = include_str!("../queries/token_any_active.sql");
pub(crate) const TOKEN_BY_HASH: &str = include_str!("../queries/token_by_hash.sql");
pub(crate) const TOKEN_CREATE: &str = include_str!("../queries/token_create.sql");
pub(crate) const TOKEN_LIST: &str = include_str!("../queries/token_list.sql");
pub(crate) const TOKEN_REVOKE: &str = include_str!("../queries/token_revoke.sql");
pub(crate) const TEMPLATES_LIST: &str = include_str!("../queries/templates_list.sql");

/// The readiness CTE followed by the per-step projection.
pub(crate) const STEP_READINESS: &str = concat!(
    include_str!("../queries/readiness_steps.sql"),
    include_str!("../queries/step_readiness.sql")
);
/// The readiness CTE followed by the per-task aggregate.
pub(crate) const TASK_EXECUTION_CONTEXT: &str = concat!(
    include_str!("../queries/readiness_steps.sql"),
    include_str!("../queries/task_execution_context.sql")
);
pub(crate) const TRY_ACQUIRE_LEADERSHIP: &str =
    include_str!("../queries/try_acquire_leadership.sql");
