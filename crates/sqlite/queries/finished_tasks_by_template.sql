-- The newest tasks of template ?4 finished in [?1, ?2), at most ?3: a backward walk of
-- tasks_template_completed_at (template_id, completed_at, id); the caller merges templates.
SELECT id, template_id, state, created_at, completed_at, steps_total
FROM tasks INDEXED BY tasks_template_completed_at
WHERE template_id = ?4 AND completed_at >= ?1 AND completed_at < ?2
ORDER BY completed_at DESC, id DESC
LIMIT ?3
