-- Task retry: a step failed for good gets another retry_limit attempts.
UPDATE workflow_steps
SET state = 'pending',
    max_attempts = max_attempts + retry_limit,
    ready_at = CASE WHEN unsatisfied_parents = 0 THEN ?2 END,
    transition_seq = transition_seq + 1,
    updated_at = ?2
WHERE id = ?1 AND state = 'error'
RETURNING transition_seq
