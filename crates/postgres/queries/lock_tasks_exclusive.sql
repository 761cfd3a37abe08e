-- Lock tasks in id order as lock_tasks.sql does, but exclusively (FOR UPDATE): for a completion
-- whose failure blocks its task. Claims lock running tasks with KEY SHARE (claim_ready.sql),
-- which this conflicts with: it waits for the claims that locked first to commit, and later
-- claims skip the task, so that when the block is written no step of the task can start
-- unseen and "nothing of it runs" is exact.
SELECT id, state FROM tasks WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE
