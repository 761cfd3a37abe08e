-- Compare-and-set of a task's state; bumps transition_seq for the history row written next.
UPDATE tasks
SET state = ?3,
    transition_seq = transition_seq + 1,
    updated_at = ?4,
    completed_at = CASE WHEN ?3 = 'complete' THEN ?4 ELSE completed_at END
WHERE id = ?1 AND state = ?2
RETURNING transition_seq
