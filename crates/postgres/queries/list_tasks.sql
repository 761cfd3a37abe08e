-- Newest first; each filter applies only when its parameter is not null.
-- A list carries no contexts (they can be large): `context` is null.
SELECT t.id, t.template_id, n.name AS namespace, tt.name, tt.version, t.state, NULL::jsonb AS context,
       t.identity_hash, t.idempotency_key, t.traceparent, t.steps_total, t.steps_remaining, t.steps_failed,
       t.created_at, t.updated_at, t.completed_at
FROM tasks t
JOIN task_templates tt ON tt.id = t.template_id
JOIN namespaces n ON n.id = tt.namespace_id
WHERE ($1::text IS NULL OR n.name = $1)
  AND ($2::bigint IS NULL OR t.id < $2)
ORDER BY t.id DESC
LIMIT $3
