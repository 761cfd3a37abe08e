-- Un-mark the current transitions of the given steps and tasks, so that new ones can take the
-- `most_recent` slot (a partial unique index) in the next statement of the same transaction.
WITH steps AS (
    UPDATE workflow_step_transitions
    SET most_recent = false
    WHERE most_recent AND workflow_step_id = ANY ($1::bigint[])
)
UPDATE task_transitions
SET most_recent = false
WHERE most_recent AND task_id = ANY ($2::bigint[])
