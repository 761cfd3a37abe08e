-- How many steps are runnable at $1, counting at most $2: a walk of the ready index that stops
-- after $2 entries.
SELECT count(*) AS n
FROM (
    SELECT 1 FROM workflow_steps WHERE ready_at <= $1 ORDER BY ready_at, id LIMIT $2
) runnable
