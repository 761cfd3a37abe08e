-- Claim up to ?1 runnable steps, oldest first, at ?2 (one writer: nothing to skip).
UPDATE tasker_bare_steps
SET state = 1, started_at = ?2
WHERE id IN (
    SELECT id FROM tasker_bare_steps INDEXED BY tasker_bare_steps_ready
    WHERE state = 0 ORDER BY id LIMIT ?1
)
RETURNING id, task_id, step
