-- Create tasks $1 .. $1 + $2 - 1 of the bare DAG queue: each one's root step (step 0) and, when
-- the shape has a join step ($3 >= 0), its counter of $4 parents; with history ($5), the first
-- history row of the task and of its root.
WITH tasks AS (
    SELECT g AS task_id FROM generate_series($1::bigint, $1::bigint + $2::bigint - 1) AS g
),
roots AS (
    INSERT INTO tasker_bare_steps (task_id, step)
    SELECT task_id, 0 FROM tasks
    RETURNING id, task_id, created_at
),
joins AS (
    INSERT INTO tasker_bare_joins (task_id, remaining)
    SELECT task_id, $4::integer FROM tasks WHERE $3::smallint >= 0
),
step_history AS (
    INSERT INTO tasker_bare_step_history (owner, seq, state, at)
    SELECT id, 1, 0, created_at FROM roots WHERE $5::boolean
),
task_history AS (
    INSERT INTO tasker_bare_task_history (owner, seq, state, at)
    SELECT task_id, 1, 0, created_at FROM roots WHERE $5::boolean
)
SELECT count(*) AS created FROM roots
