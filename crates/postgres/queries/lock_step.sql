SELECT task_id, state, attempts, max_attempts, retryable FROM workflow_steps WHERE id = $1 FOR NO KEY UPDATE
