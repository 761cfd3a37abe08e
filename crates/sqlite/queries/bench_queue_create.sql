-- The ideal queue of `tasker bench --scenario baseline`: one row per job, a partial index on
-- what is left to claim, no history.
DROP TABLE IF EXISTS tasker_baseline_queue;
CREATE TABLE tasker_baseline_queue (
    id INTEGER PRIMARY KEY,
    state INTEGER NOT NULL DEFAULT 0,
    claims INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasker_baseline_queue_ready ON tasker_baseline_queue (id) WHERE state = 0;
