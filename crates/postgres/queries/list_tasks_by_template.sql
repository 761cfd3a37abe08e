-- Newest first among the tasks of the templates in namespace $6 named $7 (any version; a null
-- parameter matches all). The names resolve to template ids first; then one backward walk of
-- tasks (template_id, id) per template id from the cursor $1, stopping at the limit $5, and
-- the walks merged. The created_at bounds ($2, $3) and the state $4 filter the rows met on the
-- way (see list_tasks.sql).
-- A list carries no contexts (they can be large): `context` is null.
WITH templates AS (
    SELECT tt.id, tt.name, tt.version, n.name AS namespace
    FROM task_templates tt
    JOIN namespaces n ON n.id = tt.namespace_id
    WHERE ($6::text IS NULL OR n.name = $6) AND ($7::text IS NULL OR tt.name = $7)
)
SELECT t.id, t.template_id, tp.namespace, tp.name, tp.version, t.state, NULL::jsonb AS context,
       t.identity_hash, t.idempotency_key, t.traceparent, t.steps_total, t.steps_remaining,
       t.steps_failed, t.created_at, t.updated_at, t.completed_at
FROM templates tp
CROSS JOIN LATERAL (
    SELECT t.id, t.template_id, t.state, t.identity_hash, t.idempotency_key, t.traceparent,
           t.steps_total, t.steps_remaining, t.steps_failed, t.created_at, t.updated_at,
           t.completed_at
    FROM tasks t
    WHERE t.template_id = tp.id
      AND t.id < coalesce($1::bigint, 9223372036854775807)
      AND t.created_at >= coalesce($2::timestamptz, '-infinity')
      AND t.created_at < coalesce($3::timestamptz, 'infinity')
      AND ($4::text IS NULL OR t.state = $4)
    ORDER BY t.id DESC
    LIMIT $5
) t
ORDER BY t.id DESC
LIMIT $5
