-- Compare-and-set of a task's state and counters ($3 = expected state). completed_at is when
-- the task reached complete, error or cancelled; a task that leaves error is not finished.
UPDATE tasks
SET state = $4,
    steps_remaining = $5,
    steps_failed = $6,
    completed_at = CASE
        WHEN $4 = $3 THEN completed_at
        WHEN $4::text IN ('complete', 'error', 'cancelled') THEN $2::timestamptz
    END,
    transition_seq = transition_seq + CASE WHEN $4 <> $3 THEN 1 ELSE 0 END,
    updated_at = $2
WHERE id = $1 AND state = $3
RETURNING transition_seq
