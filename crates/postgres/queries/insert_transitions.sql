-- New transitions of steps ($1..$5) and tasks ($6..$10). Each sort key is the owner's new
-- `transition_seq`, bumped by the state change in the same transaction, which makes the new row
-- the current one.
WITH steps AS (
    INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, metadata,
                                           sort_key, created_at)
    SELECT s.owner_id, s.from_state, s.to_state, s.metadata, s.sort_key, $11
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::integer[])
         AS s(owner_id, from_state, to_state, metadata, sort_key)
)
INSERT INTO task_transitions (task_id, from_state, to_state, metadata, sort_key, created_at)
SELECT t.owner_id, t.from_state, t.to_state, t.metadata, t.sort_key, $11
FROM unnest($6::bigint[], $7::text[], $8::text[], $9::jsonb[], $10::integer[])
     AS t(owner_id, from_state, to_state, metadata, sort_key)
