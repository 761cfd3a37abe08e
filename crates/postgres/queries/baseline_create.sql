-- The ideal queue a benchmark compares the engine with: one table, no DAG, no history.
DROP TABLE IF EXISTS tasker_baseline_jobs;
CREATE TABLE tasker_baseline_jobs (
    id bigserial PRIMARY KEY,
    state text NOT NULL DEFAULT 'ready',
    claims integer NOT NULL DEFAULT 0
);
CREATE INDEX tasker_baseline_jobs_ready ON tasker_baseline_jobs (id) WHERE state = 'ready';
