-- Give each permanently failed step of the task a fresh set of attempts.
WITH old AS (
    SELECT id FROM workflow_steps
    WHERE task_id = $1 AND state = 'error'
      AND NOT (attempts = 0 OR (retryable AND attempts < max_attempts))
    FOR NO KEY UPDATE
)
UPDATE workflow_steps s
SET state = 'pending',
    max_attempts = s.max_attempts + s.retry_limit,
    ready_at = CASE WHEN s.unsatisfied_parents = 0 THEN $2::timestamptz END,
    transition_seq = s.transition_seq + 1,
    updated_at = $2
FROM old
WHERE s.id = ANY (ARRAY(SELECT id FROM old)) AND s.id = old.id
RETURNING s.id, s.max_attempts, s.transition_seq
