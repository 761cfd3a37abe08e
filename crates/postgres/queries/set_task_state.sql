-- Compare-and-set of a task's state and counters ($3 = expected state).
UPDATE tasks
SET state = $4,
    steps_remaining = $5,
    steps_failed = $6,
    completed_at = CASE WHEN $4::text = 'complete' THEN $2::timestamptz ELSE completed_at END,
    transition_seq = transition_seq + CASE WHEN $4 <> $3 THEN 1 ELSE 0 END,
    updated_at = $2
WHERE id = $1 AND state = $3
RETURNING transition_seq
