-- Claim up to $1 runnable steps of the bare DAG queue, oldest first, skipping the ones other
-- workers hold; with history ($2), the in_progress row of each step, and of each task whose
-- root it is.
WITH picked AS (
    SELECT id FROM tasker_bare_steps
    WHERE state = 0
    ORDER BY id
    LIMIT $1
    FOR NO KEY UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE tasker_bare_steps s
    SET state = 1, started_at = clock_timestamp()
    FROM picked p
    WHERE s.id = p.id
    RETURNING s.id, s.task_id, s.step, s.started_at
),
step_history AS (
    INSERT INTO tasker_bare_step_history (owner, seq, state, at)
    SELECT id, 2, 1, started_at FROM claimed WHERE $2::boolean
),
task_history AS (
    INSERT INTO tasker_bare_task_history (owner, seq, state, at)
    SELECT task_id, 2, 1, started_at FROM claimed WHERE $2::boolean AND step = 0
)
SELECT id FROM claimed
