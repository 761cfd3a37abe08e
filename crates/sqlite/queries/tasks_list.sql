-- Newest first, read backwards along the rowid from the cursor ?1 (null: the newest); the
-- created_at bounds (?2 inclusive, ?3 exclusive; null: open) filter the rows met on the way.
-- Null parameters become open bounds through coalesce(), so that the cursor stays a range on
-- the rowid.
-- CROSS JOIN keeps tasks the outer loop (SQLite does not reorder it): the list is read in
-- index order and stops at the limit, with no sort of every match.
-- A list carries no contexts (they can be large): `context` is null.
SELECT t.id, t.template_id, n.name, tt.name, tt.version, t.state, NULL AS context, t.identity_hash,
       t.idempotency_key, t.steps_total, t.steps_remaining, t.steps_failed, t.created_at,
       t.updated_at, t.completed_at, t.traceparent
FROM tasks t
CROSS JOIN task_templates tt ON tt.id = t.template_id
CROSS JOIN namespaces n ON n.id = tt.namespace_id
WHERE t.id < coalesce(?1, 9223372036854775807)
  AND t.created_at >= coalesce(?2, -9223372036854775807)
  AND t.created_at < coalesce(?3, 9223372036854775807)
ORDER BY t.id DESC
LIMIT ?4
