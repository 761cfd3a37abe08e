-- Compare-and-set of a step to resolved_manually ($3 = expected state).
UPDATE workflow_steps
SET state = 'resolved_manually',
    ready_at = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    transition_seq = transition_seq + 1,
    updated_at = $2
WHERE id = $1 AND state = $3
RETURNING transition_seq
