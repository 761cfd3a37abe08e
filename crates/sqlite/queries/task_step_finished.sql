-- A step of the task is done (complete or resolved): ?2 is 1 when it was failed for good.
UPDATE tasks
SET steps_remaining = steps_remaining - 1,
    steps_failed = steps_failed - ?2,
    updated_at = ?3
WHERE id = ?1
RETURNING state, steps_remaining, steps_failed
