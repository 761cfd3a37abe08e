-- The oldest runnable steps of one task (an orchestrator that runs one task), read along
-- workflow_steps (task_id, position) rather than the ready index.
SELECT id, state
FROM workflow_steps INDEXED BY workflow_steps_task_position
WHERE task_id = ?3 AND ready_at IS NOT NULL AND ready_at <= ?1
ORDER BY ready_at, id
LIMIT ?2
