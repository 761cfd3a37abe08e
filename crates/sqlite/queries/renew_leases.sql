-- Extend a live lease: ?3 still holds attempt ?2 of step ?1 and it has not expired at ?5.
UPDATE workflow_steps
SET lease_expires_at = ?4
WHERE id = ?1 AND attempts = ?2 AND lease_owner = ?3 AND state = 'in_progress'
  AND lease_expires_at > ?5
