SELECT id, task_id, name, state, attempts, max_attempts, retryable, retry_limit, total_parents,
       unsatisfied_parents, ready_at, last_attempted_at, last_failure_at, backoff_request_seconds,
       inputs, results, lease_owner, lease_expires_at, created_at, updated_at, handler, queue,
       last_error
FROM workflow_steps
WHERE id = ?1
