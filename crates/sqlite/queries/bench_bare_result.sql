SELECT (SELECT COUNT(*) FROM tasker_bare_steps WHERE state = 2),
       (SELECT COUNT(*) FROM tasker_bare_step_history),
       (SELECT COUNT(*) FROM tasker_bare_task_history)
