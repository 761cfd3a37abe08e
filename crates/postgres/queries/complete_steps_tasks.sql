-- Fold applied outcomes into their tasks' counters (several outcomes of one task are summed),
-- and finish tasks: complete when nothing remains, error when blocked and nothing runs. A
-- task whose state changes gets its transition in the same statement ($1 is the time).
-- "Nothing runs" counts the task's steps through (task_id, position); with the state in the
-- WHERE clause the planner could pick the partial index of all running steps instead. The
-- count is exact: it matters only for a task with a failure for good, and no claim starts a
-- step of such a task. The completion that records the failure holds the task exclusively
-- (lock_tasks_exclusive.sql: claims that locked it first have committed, later ones skip it),
-- and once it commits, claims see the failure under their lock (claim_ready.sql).
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
),
folded AS (
    UPDATE tasks t
    SET steps_remaining = c.remaining,
        steps_failed = c.failed,
        state = c.new_state,
        completed_at = CASE
            WHEN c.new_state <> c.old_state AND c.new_state IN ('complete', 'error')
                THEN $1::timestamptz
            ELSE t.completed_at
        END,
        transition_seq = t.transition_seq
            + CASE WHEN c.new_state <> c.old_state THEN 1 ELSE 0 END,
        updated_at = $1
    FROM calc c
    WHERE t.id = c.id
    RETURNING t.id, c.old_state, c.new_state, t.transition_seq, t.steps_failed
),
task_history AS (
    INSERT INTO task_transitions (task_id, from_state, to_state, metadata, sort_key, created_at)
    SELECT f.id, f.old_state, f.new_state, '{}'::jsonb, f.transition_seq, $1
    FROM folded f
    WHERE f.new_state <> f.old_state
)
SELECT id, old_state, new_state, transition_seq, steps_failed FROM folded
