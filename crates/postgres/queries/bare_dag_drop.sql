DROP TABLE IF EXISTS tasker_bare_steps, tasker_bare_joins, tasker_bare_step_history,
    tasker_bare_task_history
