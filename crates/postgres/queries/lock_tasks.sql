-- Lock tasks in id order before touching their steps, so that concurrent writers of the same
-- tasks queue up instead of deadlocking. NO KEY UPDATE: claims of the same tasks (KEY SHARE,
-- claim_ready.sql) go on beside it. A writer that must see every running step of a task takes
-- lock_tasks_exclusive.sql instead.
SELECT id, state FROM tasks WHERE id = ANY ($1::bigint[]) ORDER BY id FOR NO KEY UPDATE
