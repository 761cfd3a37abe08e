-- Shutdown gives the step back: the attempt did not happen. ?3 is its new ready_at.
UPDATE workflow_steps
SET state = 'pending',
    attempts = attempts - 1,
    lease_owner = NULL,
    lease_expires_at = NULL,
    ready_at = ?3,
    transition_seq = transition_seq + 1,
    updated_at = ?2
WHERE id = ?1 AND state = 'in_progress'
RETURNING transition_seq
