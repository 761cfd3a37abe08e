-- The bare DAG queue `tasker bench --scenario baseline` measures the engine against: one narrow
-- table of steps (a row only once a step is runnable), a join counter per task, and the history
-- a run may keep, keyed by (owner, sequence) as the engine keys its own.
DROP TABLE IF EXISTS tasker_bare_steps, tasker_bare_joins, tasker_bare_step_history,
    tasker_bare_task_history;
CREATE TABLE tasker_bare_steps (
    id bigserial PRIMARY KEY,
    task_id bigint NOT NULL,
    step smallint NOT NULL,
    state smallint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at timestamptz,
    completed_at timestamptz
);
CREATE INDEX tasker_bare_steps_ready ON tasker_bare_steps (id) WHERE state = 0;
CREATE TABLE tasker_bare_joins (
    task_id bigint PRIMARY KEY,
    remaining integer NOT NULL
);
CREATE TABLE tasker_bare_step_history (
    owner bigint NOT NULL,
    seq smallint NOT NULL,
    state smallint NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (owner, seq)
);
CREATE TABLE tasker_bare_task_history (
    owner bigint NOT NULL,
    seq smallint NOT NULL,
    state smallint NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (owner, seq)
);
