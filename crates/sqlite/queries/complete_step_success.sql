-- Fenced by state, owner, attempt and the lease (live, or expired for the rescuer: ?5).
UPDATE workflow_steps
SET state = 'complete',
    results = ?6,
    ready_at = NULL,
    lease_owner = NULL,
    lease_expires_at = NULL,
    transition_seq = transition_seq + 1,
    updated_at = ?4
WHERE id = ?1 AND state = 'in_progress' AND lease_owner = ?2 AND attempts = ?3
  AND CASE WHEN ?5 THEN lease_expires_at < ?4 ELSE lease_expires_at >= ?4 END
RETURNING task_id, transition_seq
