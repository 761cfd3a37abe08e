-- Count finished parents ($1) off their children; a child whose last parent finished becomes
-- claimable now ($2) if its task still accepts work. Each child reports one releasing parent.
-- A child's task is its parent's: read once per finished parent, not once per child (a root
-- of a 10,000-step fan-out would read its own row 10,000 times).
WITH counts AS (
    SELECT k.to_step_id AS id, count(*)::integer AS n, max(k.from_step_id) AS released_by,
           max(p.task_id) AS task_id
    FROM unnest($1::bigint[]) AS d(id)
    CROSS JOIN LATERAL (
        SELECT p.task_id FROM workflow_steps p WHERE p.id = d.id OFFSET 0
    ) p
    CROSS JOIN LATERAL (
        SELECT e.from_step_id, e.to_step_id
        FROM workflow_step_edges e
        WHERE e.from_step_id = d.id
        OFFSET 0
    ) k
    GROUP BY k.to_step_id
)
-- The children are updated by key, from arrays built once (in the same id order): joined to
-- the CTE, which the planner cannot estimate, it hashed the counts and scanned every step of a
-- table without statistics yet (each release in the middle of a 10,000-step fan-out read all
-- 10,002 steps of the task). An unnest of arrays is estimated small: a probe per child.
UPDATE workflow_steps c
SET unsatisfied_parents = c.unsatisfied_parents - n.n,
    ready_at = CASE
        WHEN c.unsatisfied_parents - n.n = 0 AND c.state = 'pending'
             AND t.state IN ('pending', 'in_progress') AND t.steps_failed = 0
            THEN $2::timestamptz
        ELSE c.ready_at
    END,
    updated_at = $2
FROM unnest(ARRAY(SELECT k.id FROM counts k ORDER BY k.id),
            ARRAY(SELECT k.n FROM counts k ORDER BY k.id),
            ARRAY(SELECT k.released_by FROM counts k ORDER BY k.id),
            ARRAY(SELECT k.task_id FROM counts k ORDER BY k.id))
     AS n(id, n, released_by, task_id)
CROSS JOIN LATERAL (
    SELECT t.state, t.steps_failed FROM tasks t WHERE t.id = n.task_id OFFSET 0
) t
WHERE c.id = n.id
RETURNING c.id, n.released_by, (c.unsatisfied_parents = 0 AND c.ready_at IS NOT NULL) AS released
