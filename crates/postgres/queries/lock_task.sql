-- An operator's action on a task (cancel, retry, resolve) locks it exclusively (FOR UPDATE):
-- claims lock running tasks with KEY SHARE (claim_ready.sql), which this conflicts with, so
-- that no step of the task starts while the action reads and changes its steps.
SELECT state, steps_remaining, steps_failed FROM tasks WHERE id = $1 FOR UPDATE
