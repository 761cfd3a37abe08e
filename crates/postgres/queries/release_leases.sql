-- Give back owner $1's leases: the attempt is not counted and the step is claimable at once
-- ($2 = now), unless its task is blocked or cancelled.
UPDATE workflow_steps s
SET state = 'pending',
    attempts = s.attempts - 1,
    lease_owner = NULL,
    lease_expires_at = NULL,
    ready_at = CASE
        WHEN t.state IN ('pending', 'in_progress') AND t.steps_failed = 0 THEN $2::timestamptz
    END,
    transition_seq = s.transition_seq + 1,
    updated_at = $2
FROM tasks t
WHERE t.id = s.task_id AND s.state = 'in_progress' AND s.lease_owner = $1
RETURNING s.id, s.attempts, s.transition_seq
