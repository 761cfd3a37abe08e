-- The task is blocked or cancelled: none of its steps may start.
UPDATE workflow_steps SET ready_at = NULL WHERE task_id = ?1 AND ready_at IS NOT NULL
