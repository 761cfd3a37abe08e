SELECT id, state FROM workflow_steps
WHERE task_id = ?1 AND state IN ('pending', 'error')
ORDER BY position
