SELECT id FROM workflow_steps
WHERE task_id = ?1 AND state = 'error'
  AND NOT (attempts = 0 OR (retryable = 1 AND attempts < max_attempts))
ORDER BY position
