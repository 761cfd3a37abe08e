UPDATE workflow_steps
SET ready_at = ?2, updated_at = ?2
WHERE id = ?1 AND state = 'pending' AND unsatisfied_parents = 0
