-- Cancel the task's pending and failed steps; running ones finish on their own.
WITH old AS (
    SELECT id, state FROM workflow_steps
    WHERE task_id = $1 AND state IN ('pending', 'error')
    FOR NO KEY UPDATE
)
UPDATE workflow_steps s
SET state = 'cancelled', ready_at = NULL, transition_seq = s.transition_seq + 1, updated_at = $2
FROM old
WHERE s.id = ANY (ARRAY(SELECT id FROM old)) AND s.id = old.id
RETURNING s.id, old.state AS from_state, s.transition_seq
