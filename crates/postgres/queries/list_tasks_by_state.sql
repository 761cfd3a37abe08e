-- Newest first in state $4, read backwards along tasks (state, id) from the cursor $1; the
-- created_at bounds ($2, $3) filter the rows met on the way (see list_tasks.sql).
-- A list carries no contexts (they can be large): `context` is null.
SELECT t.id, t.template_id, n.name AS namespace, tt.name, tt.version, t.state, NULL::jsonb AS context,
       t.identity_hash, t.idempotency_key, t.traceparent, t.steps_total, t.steps_remaining,
       t.steps_failed, t.created_at, t.updated_at, t.completed_at
FROM tasks t
JOIN task_templates tt ON tt.id = t.template_id
JOIN namespaces n ON n.id = tt.namespace_id
WHERE t.state = $4
  AND t.id < coalesce($1::bigint, 9223372036854775807)
  AND t.created_at >= coalesce($2::timestamptz, '-infinity')
  AND t.created_at < coalesce($3::timestamptz, 'infinity')
ORDER BY t.state DESC, t.id DESC
LIMIT $5
