-- The newest tasks finished in [$1, $2), at most $3: a backward walk of tasks_completed_at
-- (completed_at, id) that stops at the limit. What follows reads `finished`.
WITH finished AS (
    SELECT t.id, t.template_id, t.state, t.created_at, t.completed_at, t.steps_total
    FROM tasks t
    WHERE t.completed_at >= $1 AND t.completed_at < $2
    ORDER BY t.completed_at DESC, t.id DESC
    LIMIT $3
)
