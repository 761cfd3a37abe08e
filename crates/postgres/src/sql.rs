//! The SQL of this backend, one file per operation under `queries/` (the SQLite backend uses
//! the same names).

macro_rules! queries {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(pub(crate) const $name: &str = include_str!(concat!("../queries/", $file));)*
    };
}

queries! {
    BARE_DAG_CLAIM => "bare_dag_claim.sql",
    BARE_DAG_COMPLETE => "bare_dag_complete.sql",
    BARE_DAG_CREATE => "bare_dag_create.sql",
    BARE_DAG_DROP => "bare_dag_drop.sql",
    BARE_DAG_INSERT => "bare_dag_insert.sql",
    BARE_DAG_RESULT => "bare_dag_result.sql",
    BASELINE_CLAIM => "baseline_claim.sql",
    BASELINE_COMPLETE => "baseline_complete.sql",
    BASELINE_CREATE => "baseline_create.sql",
    BASELINE_DROP => "baseline_drop.sql",
    BASELINE_INSERT => "baseline_insert.sql",
    BASELINE_RESULT => "baseline_result.sql",
    ADVERTISE_HANDLERS => "advertise_handlers.sql",
    ADVERTISED_ROUTES => "advertised_routes.sql",
    ALLOCATE_IDS => "allocate_ids.sql",
    BLOCK_TASKS => "block_tasks.sql",
    CANCEL_TASK_STEPS => "cancel_task_steps.sql",
    COMPLETE_STEPS => "complete_steps.sql",
    COMPLETE_STEPS_TASKS => "complete_steps_tasks.sql",
    COUNT_RUNNABLE_STEPS => "count_runnable_steps.sql",
    COUNT_STEPS_BY_STATE => "count_steps_by_state.sql",
    COUNT_TASKS_BY_STATE => "count_tasks_by_state.sql",
    CREATE_TASKS => "create_tasks.sql",
    CURRENT_TASK_TRANSITION => "current_task_transition.sql",
    DATABASE_TIME => "database_time.sql",
    DESCRIBE => "describe.sql",
    EXPIRED_LEASES => "expired_leases.sql",
    FAIL_IDLE_BLOCKED_TASKS => "fail_idle_blocked_tasks.sql",
    FINISHED_COUNTS => "finished_counts.sql",
    FIND_TASKS_BY_IDENTITY => "find_tasks_by_identity.sql",
    FIND_TEMPLATE_LATEST => "find_template_latest.sql",
    FIND_TEMPLATE_VERSION => "find_template_version.sql",
    INSERT_TRANSITIONS => "insert_transitions.sql",
    LEASED_TASKS => "leased_tasks.sql",
    LIST_TASKS => "list_tasks.sql",
    LIST_TASKS_BY_STATE => "list_tasks_by_state.sql",
    LIST_TASKS_BY_TEMPLATE => "list_tasks_by_template.sql",
    LIST_TEMPLATES => "list_templates.sql",
    LOCK_STEP => "lock_step.sql",
    LOCK_TASK => "lock_task.sql",
    LOCK_TASKS => "lock_tasks.sql",
    LOCK_TASKS_EXCLUSIVE => "lock_tasks_exclusive.sql",
    NEXT_READY_AT => "next_ready_at.sql",
    NOTIFY_WORK => "notify_work.sql",
    OUTSTANDING_WORK => "outstanding_work.sql",
    REGISTER_TEMPLATE => "register_template.sql",
    RELEASE_CHILDREN => "release_children.sql",
    RELEASE_LEADERSHIP => "release_leadership.sql",
    RELEASE_LEASES => "release_leases.sql",
    RELEASE_STEPS => "release_steps.sql",
    RENEW_LEASES => "renew_leases.sql",
    RESOLVE_STEP => "resolve_step.sql",
    SEED_COMPLETED_TASKS => "seed_completed_tasks.sql",
    RETRY_TASK_STEPS => "retry_task_steps.sql",
    SET_TASK_STATE => "set_task_state.sql",
    STEP => "step.sql",
    STEP_READINESS => "step_readiness.sql",
    STEP_TASK_ID => "step_task_id.sql",
    STEP_TRANSITIONS_OF_TASK => "step_transitions_of_task.sql",
    STEPS_OF_TASK => "steps_of_task.sql",
    STEPS_TASKS => "steps_tasks.sql",
    TABLE_COUNTS => "table_counts.sql",
    TASK => "task.sql",
    TASK_EXECUTION_CONTEXT => "task_execution_context.sql",
    TASK_TRANSITIONS => "task_transitions.sql",
    TEMPLATE_BY_ID => "template_by_id.sql",
    TOKEN_ANY_ACTIVE => "token_any_active.sql",
    TOKEN_BY_HASH => "token_by_hash.sql",
    TOKEN_CREATE => "token_create.sql",
    TOKEN_LIST => "token_list.sql",
    TOKEN_REVOKE => "token_revoke.sql",
    TRY_ACQUIRE_LEADERSHIP => "try_acquire_leadership.sql",
    UPSERT_NAMESPACE => "upsert_namespace.sql",
    WAKE_TASK_STEPS => "wake_task_steps.sql",
}

/// The analytics' reads of finished tasks: a choice of tasks (`finished`: all templates, or
/// some) followed by what to return of them.
macro_rules! finished {
    ($pick:literal, $tail:literal) => {
        concat!(
            include_str!(concat!("../queries/", $pick)),
            include_str!(concat!("../queries/", $tail))
        )
    };
}

pub(crate) const FINISHED_TASKS: &str = finished!("finished_all.sql", "finished_tasks.sql");
pub(crate) const FINISHED_TASKS_BY_TEMPLATE: &str =
    finished!("finished_by_template.sql", "finished_tasks.sql");
pub(crate) const FINISHED_STEP_SAMPLES: &str =
    finished!("finished_all.sql", "finished_step_samples.sql");
pub(crate) const FINISHED_STEP_SAMPLES_BY_TEMPLATE: &str =
    finished!("finished_by_template.sql", "finished_step_samples.sql");

/// A claim is a choice of rows (`picked`) followed by what every claim does with them.
macro_rules! claim {
    ($pick:literal) => {
        concat!(
            include_str!(concat!("../queries/", $pick)),
            include_str!("../queries/claim_picked.sql")
        )
    };
}

/// Claim the oldest runnable steps.
pub(crate) const CLAIM_STEPS: &str = claim!("claim_ready.sql");
/// Claim the oldest runnable steps of one task.
pub(crate) const CLAIM_TASK_STEPS: &str = claim!("claim_task_ready.sql");
/// Claim the steps a completion released, in its transaction (the hand-off).
pub(crate) const CLAIM_RELEASED: &str = claim!("claim_released.sql");

/// Batches of at most this many rows run on generic plans, larger ones on custom plans.
const GENERIC_PLANS_UP_TO: usize = 16;

/// How to plan the statements of a transaction that handles `rows` rows (`SET LOCAL`).
///
/// Planning a batch statement for its bound values costs up to a millisecond, most of a lone
/// step's latency, while the generic plans (index lookups, checked by the plan tests) serve a
/// handful of rows as well. Large batches are always planned for their values: left to
/// itself, PostgreSQL may settle on a generic plan after five small executions (an
/// orchestrator that starts on empty tables) and keep it for batches of hundreds, which made
/// 50,000 tasks submitted to a running orchestrator take 37 s instead of about 20 s.
pub(crate) fn plan_mode(rows: usize) -> &'static str {
    if rows <= GENERIC_PLANS_UP_TO {
        "SET LOCAL plan_cache_mode = force_generic_plan"
    } else {
        "SET LOCAL plan_cache_mode = force_custom_plan"
    }
}
