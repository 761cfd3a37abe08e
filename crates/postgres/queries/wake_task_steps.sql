-- An unblocked task's runnable steps become claimable again now ($2).
UPDATE workflow_steps
SET ready_at = $2, updated_at = $2
WHERE task_id = $1
  AND ready_at IS NULL
  AND unsatisfied_parents = 0
  AND ((state = 'pending' AND (attempts = 0 OR (retryable AND attempts < max_attempts)))
       OR (state = 'error' AND retryable AND attempts < max_attempts))
