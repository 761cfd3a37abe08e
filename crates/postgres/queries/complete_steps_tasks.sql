-- Fold applied outcomes into their tasks' counters (several outcomes of one task are summed),
-- and finish tasks: complete when nothing remains, error when blocked and nothing runs.
-- "Nothing runs" counts the task's steps through (task_id, position); with the state in the
-- WHERE clause the planner could pick the partial index of all running steps instead.
WITH applied AS (
    SELECT *
    FROM unnest($2::bigint[], $3::boolean[], $4::boolean[]) AS a(task_id, ok, permanent)
),
agg AS (
    SELECT task_id,
           (count(*) FILTER (WHERE ok))::integer AS done,
           (count(*) FILTER (WHERE permanent))::integer AS failed
    FROM applied
    GROUP BY task_id
),
calc AS (
    SELECT t.id,
           t.state AS old_state,
           t.steps_remaining - a.done AS remaining,
           t.steps_failed + a.failed AS failed,
           CASE
               WHEN t.state = 'in_progress' AND t.steps_remaining - a.done = 0 THEN 'complete'
               WHEN t.state = 'in_progress' AND t.steps_failed + a.failed > 0
                    AND (SELECT count(*) FILTER (WHERE s.state = 'in_progress')
                         FROM workflow_steps s WHERE s.task_id = t.id) = 0
                   THEN 'error'
               ELSE t.state
           END AS new_state
    FROM agg a
    JOIN tasks t ON t.id = a.task_id
)
UPDATE tasks t
SET steps_remaining = c.remaining,
    steps_failed = c.failed,
    state = c.new_state,
    completed_at = CASE WHEN c.new_state = 'complete' THEN $1::timestamptz ELSE t.completed_at END,
    transition_seq = t.transition_seq + CASE WHEN c.new_state <> c.old_state THEN 1 ELSE 0 END,
    updated_at = $1
FROM calc c
WHERE t.id = c.id
RETURNING t.id, c.old_state, c.new_state, t.transition_seq, t.steps_failed
