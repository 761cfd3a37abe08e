-- Claim the `picked` rows that claim_ready.sql or claim_released.sql chose (one of them
-- precedes this text): each goes to in_progress under a lease for $3 until $4 at $1; start
-- their tasks and record both in the history.
-- Lookups by key are written as joins on the key or as LATERAL subqueries fenced with OFFSET 0,
-- so that they stay index probes even before the tables have statistics (a young table's
-- default estimates otherwise favour hashing a whole table). A join condition is not repeated
-- as `= ANY (array)`: the index scan would sort that array again for every probed row.
claimed AS (
    UPDATE workflow_steps s
    SET state = 'in_progress',
        attempts = s.attempts + 1,
        lease_owner = $3,
        lease_expires_at = $4,
        last_attempted_at = $1,
        last_ready_at = p.ready_at,
        ready_at = NULL,
        transition_seq = s.transition_seq + 1,
        updated_at = $1
    FROM picked p
    WHERE s.id = p.id
    RETURNING s.id, s.task_id, s.name, s.handler, s.attempts, s.max_attempts, s.retryable,
              s.inputs, s.transition_seq, p.from_state, p.ready_at
),
-- coalesce() on the (non-null) state keeps the lookup on the primary key: as a plain equality
-- it lets the planner read (state, id), whose 'pending' range fills with dead entries as tasks
-- start.
started AS (
    UPDATE tasks t
    SET state = 'in_progress', transition_seq = t.transition_seq + 1, updated_at = $1
    WHERE t.id = ANY (ARRAY(SELECT task_id FROM claimed)) AND coalesce(t.state, '') = 'pending'
    RETURNING t.id, t.transition_seq
),
-- The history of the claim travels in the same statement: one round trip fewer per claim.
-- Each row takes its owner's new sequence number, which makes it the current transition.
step_history AS (
    INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, metadata,
                                           sort_key, created_at)
    SELECT c.id, c.from_state, 'in_progress',
           jsonb_build_object('attempt', c.attempts, 'worker', $3::text), c.transition_seq, $1
    FROM claimed c
),
task_history AS (
    INSERT INTO task_transitions (task_id, from_state, to_state, metadata, sort_key, created_at)
    SELECT st.id, 'pending', 'in_progress', jsonb_build_object('worker', $3::text),
           st.transition_seq, $1
    FROM started st
)
-- Started tasks come back as rows of their own rather than joined to their steps: a join of
-- two CTE results is a nested loop over both (the planner cannot estimate either), quadratic
-- in the batch size. So do the contexts, once per task of the batch, however many of its
-- steps were claimed: a wide fan-out would otherwise carry its context once per step. The
-- task's trace context and creation time travel in its context row.
SELECT 'step' AS kind, c.id, c.task_id, t.template_id, c.name, c.attempts, c.max_attempts,
       c.retryable, c.inputs, NULL::jsonb AS context,
       parents.names AS parent_names,
       parents.results AS parent_results,
       c.ready_at, NULL::text AS traceparent, NULL::timestamptz AS task_created_at,
       c.handler
FROM claimed c
CROSS JOIN LATERAL (
    SELECT t.template_id FROM tasks t WHERE t.id = c.task_id OFFSET 0
) t
LEFT JOIN LATERAL (
    SELECT array_agg(p.name ORDER BY p.position) AS names,
           array_agg(coalesce(p.results, 'null'::jsonb) ORDER BY p.position) AS results
    FROM workflow_step_edges e
    CROSS JOIN LATERAL (
        SELECT p.name, p.position, p.results FROM workflow_steps p
        WHERE p.id = e.from_step_id
        OFFSET 0
    ) p
    WHERE e.to_step_id = c.id
) parents ON true
UNION ALL
SELECT 'task_started', NULL::bigint, st.id, NULL::bigint, NULL::text, NULL::integer,
       NULL::integer, NULL::boolean, NULL::jsonb, NULL::jsonb, NULL::text[], NULL::jsonb[],
       NULL::timestamptz, NULL::text, NULL::timestamptz, NULL::text
FROM started st
UNION ALL
SELECT 'task_context', NULL::bigint, t.id, NULL::bigint, NULL::text, NULL::integer,
       NULL::integer, NULL::boolean, NULL::jsonb, t.context, NULL::text[], NULL::jsonb[],
       NULL::timestamptz, t.traceparent, t.created_at, NULL::text
FROM tasks t
WHERE t.id = ANY (ARRAY(SELECT DISTINCT c.task_id FROM claimed c))
ORDER BY 13 NULLS FIRST, 2
