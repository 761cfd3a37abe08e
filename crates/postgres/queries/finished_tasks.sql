-- Follows finished_all.sql or finished_by_template.sql: the tasks, newest finished first.
SELECT f.id, f.template_id, f.state, f.created_at, f.completed_at, f.steps_total
FROM finished f
ORDER BY f.completed_at DESC, f.id DESC
