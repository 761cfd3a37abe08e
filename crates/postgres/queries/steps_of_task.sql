SELECT s.id, s.task_id, s.name, s.handler, s.queue, s.state, s.attempts, s.max_attempts,
       s.retryable, s.retry_limit, s.total_parents, s.unsatisfied_parents, s.ready_at,
       s.last_attempted_at, s.last_failure_at, s.backoff_request_seconds, s.inputs, s.results,
       s.lease_owner, s.lease_expires_at, s.created_at, s.updated_at, s.last_error,
       ARRAY(SELECT p.name
             FROM workflow_step_edges e
             CROSS JOIN LATERAL (
                 SELECT p.name, p.position FROM workflow_steps p
                 WHERE p.id = e.from_step_id
                 OFFSET 0
             ) p
             WHERE e.to_step_id = s.id
             ORDER BY p.position) AS parents
FROM workflow_steps s
WHERE s.task_id = $1
ORDER BY s.position
