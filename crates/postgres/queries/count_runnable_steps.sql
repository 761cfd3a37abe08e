-- How many steps are runnable at $1, counting at most $2: a walk of the ready index, whatever
-- the route, that stops after $2 entries. Ordered by the index's keys so that it is read in
-- order rather than the table scanned.
SELECT count(*) AS n
FROM (
    SELECT 1 FROM workflow_steps WHERE ready_at <= $1
    ORDER BY queue, handler, ready_at, id
    LIMIT $2
) runnable
