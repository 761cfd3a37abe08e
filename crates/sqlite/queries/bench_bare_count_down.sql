-- A parent of task ?1's join step completed: one fewer to wait for.
UPDATE tasker_bare_joins SET remaining = remaining - 1 WHERE task_id = ?1 RETURNING remaining
