-- Lock tasks in id order before touching their steps, so that concurrent writers of the same
-- tasks queue up instead of deadlocking.
SELECT id, state FROM tasks WHERE id = ANY ($1::bigint[]) ORDER BY id FOR NO KEY UPDATE
