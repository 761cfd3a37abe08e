-- The steps of finished task ?1 in template order, with the times their samples come from.
SELECT name, state, attempts, last_ready_at, last_attempted_at, last_failure_at, updated_at
FROM workflow_steps INDEXED BY workflow_steps_task_position
WHERE task_id = ?1
ORDER BY position
