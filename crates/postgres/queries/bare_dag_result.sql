SELECT (SELECT count(*) FROM tasker_bare_steps WHERE state = 2) AS completed,
       (SELECT count(*) FROM tasker_bare_step_history) AS step_history,
       (SELECT count(*) FROM tasker_bare_task_history) AS task_history
