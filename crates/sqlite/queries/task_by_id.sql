SELECT t.id, t.template_id, n.name, tt.name, tt.version, t.state, t.context, t.identity_hash,
       t.idempotency_key, t.steps_total, t.steps_remaining, t.steps_failed, t.created_at,
       t.updated_at, t.completed_at, t.traceparent
FROM tasks t
JOIN task_templates tt ON tt.id = t.template_id
JOIN namespaces n ON n.id = tt.namespace_id
WHERE t.id = ?1
