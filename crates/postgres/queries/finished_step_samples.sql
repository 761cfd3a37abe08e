-- Follows finished_all.sql or finished_by_template.sql: the steps of those tasks, read task by
-- task through workflow_steps (task_id, position), in the tasks' order then template order.
SELECT f.id AS task_id, f.template_id, s.name, s.state, s.attempts, s.last_ready_at,
       s.last_attempted_at, s.last_failure_at, s.updated_at
FROM finished f
CROSS JOIN LATERAL (
    SELECT s.position, s.name, s.state, s.attempts, s.last_ready_at, s.last_attempted_at,
           s.last_failure_at, s.updated_at
    FROM workflow_steps s
    WHERE s.task_id = f.id
    OFFSET 0
) s
ORDER BY f.completed_at DESC, f.id DESC, s.position
