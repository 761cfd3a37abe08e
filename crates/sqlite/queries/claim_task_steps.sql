-- The oldest runnable steps of one task (an orchestrator that runs one task) that the claim's
-- filter admits (queue ?4, '' = in-process; handler in the JSON array ?5, null: any), read along
-- workflow_steps (task_id, position) rather than the ready index.
SELECT id, state, ready_at
FROM workflow_steps INDEXED BY workflow_steps_task_position
WHERE task_id = ?3 AND ready_at IS NOT NULL AND ready_at <= ?1
  AND queue = ?4 AND (?5 IS NULL OR handler IN (SELECT value FROM json_each(?5)))
ORDER BY ready_at, id
LIMIT ?2
