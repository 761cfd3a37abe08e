UPDATE tasks
SET steps_failed = steps_failed + 1, updated_at = ?2
WHERE id = ?1
RETURNING state, steps_remaining, steps_failed
