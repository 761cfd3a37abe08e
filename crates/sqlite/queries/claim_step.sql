-- Claim step ?1 (expected in state ?2) for owner ?3 under a lease until ?4, at ?5. The ready_at
-- it was claimed at is kept as last_ready_at (the right-hand sides read the row before the
-- update).
UPDATE workflow_steps
SET state = 'in_progress',
    attempts = attempts + 1,
    lease_owner = ?3,
    lease_expires_at = ?4,
    last_attempted_at = ?5,
    last_ready_at = coalesce(ready_at, ?5),
    ready_at = NULL,
    transition_seq = transition_seq + 1,
    updated_at = ?5
WHERE id = ?1 AND state = ?2
RETURNING task_id, name, attempts, max_attempts, retryable, inputs, transition_seq, total_parents,
          last_ready_at, handler
