-- An unblocked task's runnable steps become claimable again now ($2): every pending step whose
-- parents are done (a pending step is always eligible, even one that `task retry` or a released
-- lease left with attempts made) and every failed step with a retry left.
UPDATE workflow_steps
SET ready_at = $2, updated_at = $2
WHERE task_id = $1
  AND ready_at IS NULL
  AND unsatisfied_parents = 0
  AND (state = 'pending'
       OR (state = 'error' AND retryable AND attempts < max_attempts))
