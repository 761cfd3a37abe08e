-- The newest tasks of templates $4 finished in [$1, $2), at most $3: one backward walk of
-- tasks_template_completed_at (template_id, completed_at, id) per template, each stopping at
-- the limit, merged. What follows reads `finished`.
WITH finished AS (
    SELECT f.id, f.template_id, f.state, f.created_at, f.completed_at, f.steps_total
    FROM unnest($4::bigint[]) AS tp(id)
    CROSS JOIN LATERAL (
        SELECT t.id, t.template_id, t.state, t.created_at, t.completed_at, t.steps_total
        FROM tasks t
        WHERE t.template_id = tp.id AND t.completed_at >= $1 AND t.completed_at < $2
        ORDER BY t.completed_at DESC, t.id DESC
        LIMIT $3
    ) f
    ORDER BY f.completed_at DESC, f.id DESC
    LIMIT $3
)
