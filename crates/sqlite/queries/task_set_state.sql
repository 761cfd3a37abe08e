-- Compare-and-set of a task's state; bumps transition_seq for the history row written next.
-- completed_at is when the task reached complete, error or cancelled; a task that leaves error
-- is not finished.
UPDATE tasks
SET state = ?3,
    transition_seq = transition_seq + 1,
    updated_at = ?4,
    completed_at = CASE
        WHEN ?3 = ?2 THEN completed_at
        WHEN ?3 IN ('complete', 'error', 'cancelled') THEN ?4
    END
WHERE id = ?1 AND state = ?2
RETURNING transition_seq
