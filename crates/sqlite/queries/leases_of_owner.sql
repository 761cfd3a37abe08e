SELECT id, task_id, attempts
FROM workflow_steps
WHERE state = 'in_progress' AND lease_owner = ?1
ORDER BY id
