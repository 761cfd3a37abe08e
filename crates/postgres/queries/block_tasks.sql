-- A blocked (or cancelled) task starts nothing new: no step of it stays claimable. Steps are
-- found task by task through the (task_id, position) index (not the partial ready index, which
-- holds every runnable step), then updated by key.
UPDATE workflow_steps SET ready_at = NULL, updated_at = $2
WHERE id = ANY (ARRAY(
    SELECT s.id
    FROM unnest($1::bigint[]) AS t(id)
    CROSS JOIN LATERAL (
        SELECT s.id, s.ready_at FROM workflow_steps s WHERE s.task_id = t.id OFFSET 0
    ) s
    WHERE s.ready_at IS NOT NULL
))
