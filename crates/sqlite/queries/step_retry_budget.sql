SELECT task_id, retryable, attempts, max_attempts FROM workflow_steps WHERE id = ?1
