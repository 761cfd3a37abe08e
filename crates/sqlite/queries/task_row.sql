SELECT state, template_id, context, steps_failed
FROM tasks
WHERE id = ?1
