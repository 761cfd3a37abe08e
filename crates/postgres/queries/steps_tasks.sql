-- The tasks of the given steps ($1), each once, read by key.
SELECT DISTINCT cur.task_id
FROM unnest($1::bigint[]) AS r(id)
CROSS JOIN LATERAL (
    SELECT s.task_id FROM workflow_steps s WHERE s.id = r.id OFFSET 0
) cur
