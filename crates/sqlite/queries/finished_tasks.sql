-- The newest tasks finished in [?1, ?2), at most ?3: a backward walk of tasks_completed_at
-- (completed_at, id) that stops at the limit.
SELECT id, template_id, state, created_at, completed_at, steps_total
FROM tasks INDEXED BY tasks_completed_at
WHERE completed_at >= ?1 AND completed_at < ?2
ORDER BY completed_at DESC, id DESC
LIMIT ?3
