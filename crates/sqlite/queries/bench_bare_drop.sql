DROP TABLE IF EXISTS tasker_bare_steps;
DROP TABLE IF EXISTS tasker_bare_joins;
DROP TABLE IF EXISTS tasker_bare_step_history;
DROP TABLE IF EXISTS tasker_bare_task_history;
