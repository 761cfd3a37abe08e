SELECT s.id, s.task_id, t.template_id, s.name, s.lease_owner, s.attempts, s.max_attempts,
       s.retryable, s.lease_expires_at
FROM workflow_steps s
JOIN tasks t ON t.id = s.task_id
WHERE s.state = 'in_progress' AND s.lease_expires_at < $1
ORDER BY s.lease_expires_at, s.id
LIMIT $2
