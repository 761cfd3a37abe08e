-- The context handed to the steps of a task claimed together, its trace context and creation
-- time (read once per task and claim).
SELECT context, traceparent, created_at
FROM tasks
WHERE id = ?1
