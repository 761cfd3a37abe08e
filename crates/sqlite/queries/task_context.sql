-- The context handed to the steps of a task claimed together (read once per task and claim).
SELECT context
FROM tasks
WHERE id = ?1
