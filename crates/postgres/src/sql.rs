//! The SQL of this backend, one file per operation under `queries/` (the SQLite backend uses
//! the same names).

macro_rules! queries {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(pub(crate) const $name: &str = include_str!(concat!("../queries/", $file));)*
    };
}

queries! {
    ALLOCATE_IDS => "allocate_ids.sql",
    BLOCK_TASKS => "block_tasks.sql",
    CANCEL_TASK_STEPS => "cancel_task_steps.sql",
    CLAIM_STEPS => "claim_steps.sql",
    COMPLETE_STEPS => "complete_steps.sql",
    COMPLETE_STEPS_TASKS => "complete_steps_tasks.sql",
    COUNT_TASKS_BY_STATE => "count_tasks_by_state.sql",
    CREATE_TASKS => "create_tasks.sql",
    CURRENT_TASK_TRANSITION => "current_task_transition.sql",
    DESCRIBE => "describe.sql",
    EXPIRED_LEASES => "expired_leases.sql",
    FAIL_IDLE_BLOCKED_TASKS => "fail_idle_blocked_tasks.sql",
    FIND_TASKS_BY_IDENTITY => "find_tasks_by_identity.sql",
    FIND_TEMPLATE_LATEST => "find_template_latest.sql",
    FIND_TEMPLATE_VERSION => "find_template_version.sql",
    INSERT_TRANSITIONS => "insert_transitions.sql",
    LEASED_TASKS => "leased_tasks.sql",
    LIST_TASKS => "list_tasks.sql",
    LIST_TEMPLATES => "list_templates.sql",
    LOCK_STEP => "lock_step.sql",
    LOCK_TASK => "lock_task.sql",
    LOCK_TASKS => "lock_tasks.sql",
    NEXT_READY_AT => "next_ready_at.sql",
    OUTSTANDING_WORK => "outstanding_work.sql",
    REGISTER_TEMPLATE => "register_template.sql",
    RELEASE_CHILDREN => "release_children.sql",
    RELEASE_LEASES => "release_leases.sql",
    RENEW_LEASES => "renew_leases.sql",
    RESOLVE_STEP => "resolve_step.sql",
    RETRY_TASK_STEPS => "retry_task_steps.sql",
    SET_TASK_STATE => "set_task_state.sql",
    STEP => "step.sql",
    STEP_READINESS => "step_readiness.sql",
    STEP_TASK_ID => "step_task_id.sql",
    STEP_TRANSITIONS_OF_TASK => "step_transitions_of_task.sql",
    STEPS_OF_TASK => "steps_of_task.sql",
    TASK => "task.sql",
    TASK_EXECUTION_CONTEXT => "task_execution_context.sql",
    TASK_TRANSITIONS => "task_transitions.sql",
    TEMPLATE_BY_ID => "template_by_id.sql",
    UNMARK_TRANSITIONS => "unmark_transitions.sql",
    UPSERT_NAMESPACE => "upsert_namespace.sql",
    WAKE_TASK_STEPS => "wake_task_steps.sql",
}
