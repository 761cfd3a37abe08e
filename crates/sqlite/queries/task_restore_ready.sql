-- The task accepts work again: every runnable step of it may be claimed now. A pending step is
-- always eligible, even one that `task retry` or a released lease left with attempts made.
UPDATE workflow_steps
SET ready_at = ?2, updated_at = ?2
WHERE task_id = ?1 AND unsatisfied_parents = 0 AND ready_at IS NULL
  AND (state = 'pending'
    OR (state = 'error' AND retryable = 1 AND attempts < max_attempts))
