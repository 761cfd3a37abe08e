-- Newest first in state ?4, read backwards along tasks (state, id) from the cursor ?1; the
-- created_at bounds (?2, ?3) filter the rows met on the way (see tasks_list.sql).
-- CROSS JOIN keeps tasks the outer loop (see tasks_list.sql).
-- A list carries no contexts (they can be large): `context` is null.
SELECT t.id, t.template_id, n.name, tt.name, tt.version, t.state, NULL AS context, t.identity_hash,
       t.idempotency_key, t.steps_total, t.steps_remaining, t.steps_failed, t.created_at,
       t.updated_at, t.completed_at, t.traceparent
FROM tasks t INDEXED BY tasks_state_id
CROSS JOIN task_templates tt ON tt.id = t.template_id
CROSS JOIN namespaces n ON n.id = tt.namespace_id
WHERE t.state = ?4
  AND t.id < coalesce(?1, 9223372036854775807)
  AND t.created_at >= coalesce(?2, -9223372036854775807)
  AND t.created_at < coalesce(?3, 9223372036854775807)
ORDER BY t.id DESC
LIMIT ?5
