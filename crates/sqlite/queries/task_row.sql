SELECT state, template_id, steps_failed
FROM tasks
WHERE id = ?1
