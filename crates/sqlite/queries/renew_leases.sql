UPDATE workflow_steps
SET lease_expires_at = ?4
WHERE id = ?1 AND attempts = ?2 AND lease_owner = ?3 AND state = 'in_progress'
