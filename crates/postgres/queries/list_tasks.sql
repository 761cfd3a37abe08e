-- Newest first, read backwards along the primary key from the cursor $1 (null: the newest);
-- the created_at bounds ($2 inclusive, $3 exclusive; null: open) filter the rows met on the way.
-- Null parameters become open bounds through coalesce(), so that they stay index conditions
-- in a generic plan too.
-- A list carries no contexts (they can be large): `context` is null.
SELECT t.id, t.template_id, n.name AS namespace, tt.name, tt.version, t.state, NULL::jsonb AS context,
       t.identity_hash, t.idempotency_key, t.traceparent, t.steps_total, t.steps_remaining,
       t.steps_failed, t.created_at, t.updated_at, t.completed_at
FROM tasks t
JOIN task_templates tt ON tt.id = t.template_id
JOIN namespaces n ON n.id = tt.namespace_id
WHERE t.id < coalesce($1::bigint, 9223372036854775807)
  AND t.created_at >= coalesce($2::timestamptz, '-infinity')
  AND t.created_at < coalesce($3::timestamptz, 'infinity')
ORDER BY t.id DESC
LIMIT $4
