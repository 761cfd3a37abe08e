-- The bare DAG queue `tasker bench --scenario baseline` measures the engine against: one narrow
-- table of steps (a row only once a step is runnable), a join counter per task, and the history
-- a run may keep, keyed by (owner, sequence) as the engine keys its own. Times in microseconds.
DROP TABLE IF EXISTS tasker_bare_steps;
DROP TABLE IF EXISTS tasker_bare_joins;
DROP TABLE IF EXISTS tasker_bare_step_history;
DROP TABLE IF EXISTS tasker_bare_task_history;
CREATE TABLE tasker_bare_steps (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    completed_at INTEGER
);
CREATE INDEX tasker_bare_steps_ready ON tasker_bare_steps (id) WHERE state = 0;
CREATE TABLE tasker_bare_joins (
    task_id INTEGER PRIMARY KEY,
    remaining INTEGER NOT NULL
);
CREATE TABLE tasker_bare_step_history (
    owner INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    state INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (owner, seq)
);
CREATE TABLE tasker_bare_task_history (
    owner INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    state INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (owner, seq)
);
