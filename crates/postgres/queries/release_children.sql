-- Count finished parents ($1) off their children; a child whose last parent finished becomes
-- claimable now ($2) if its task still accepts work. Each child reports one releasing parent.
WITH done AS (
    SELECT unnest($1::bigint[]) AS id
),
counts AS (
    SELECT e.to_step_id AS id, count(*)::integer AS n, max(e.from_step_id) AS released_by
    FROM workflow_step_edges e
    JOIN done d ON e.from_step_id = d.id
    GROUP BY e.to_step_id
)
UPDATE workflow_steps c
SET unsatisfied_parents = c.unsatisfied_parents - n.n,
    ready_at = CASE
        WHEN c.unsatisfied_parents - n.n = 0 AND c.state = 'pending'
             AND t.state IN ('pending', 'in_progress') AND t.steps_failed = 0
            THEN $2::timestamptz
        ELSE c.ready_at
    END,
    updated_at = $2
FROM counts n, tasks t
WHERE c.id = n.id AND t.id = c.task_id
RETURNING c.id, n.released_by, (c.unsatisfied_parents = 0 AND c.ready_at IS NOT NULL) AS released
