UPDATE workflow_steps
SET state = 'in_progress',
    attempts = attempts + 1,
    lease_owner = ?3,
    lease_expires_at = ?4,
    last_attempted_at = ?5,
    ready_at = NULL,
    transition_seq = transition_seq + 1,
    updated_at = ?5
WHERE id = ?1 AND state = ?2
RETURNING task_id, name, attempts, max_attempts, retryable, inputs, transition_seq, total_parents
