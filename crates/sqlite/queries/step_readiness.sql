SELECT task_id, id, name, state, dependencies_satisfied, eligible, ready_for_execution,
       last_failure_at, next_retry_at, total_parents, completed_parents, attempts, max_attempts,
       backoff_request_seconds, last_attempted_at
FROM readiness
ORDER BY position
