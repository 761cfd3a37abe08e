-- Claim up to $2 runnable steps for owner $3 under a lease until $4; start their tasks.
-- Rows locked by a concurrent claimer are skipped, never waited for.
WITH picked AS (
    SELECT s.id, s.state AS from_state, s.ready_at
    FROM workflow_steps s
    WHERE s.ready_at <= $1 AND s.state IN ('pending', 'error')
    ORDER BY s.ready_at, s.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE workflow_steps s
    SET state = 'in_progress',
        attempts = s.attempts + 1,
        lease_owner = $3,
        lease_expires_at = $4,
        last_attempted_at = $1,
        ready_at = NULL,
        transition_seq = s.transition_seq + 1,
        updated_at = $1
    FROM picked p
    WHERE s.id = p.id
    RETURNING s.id, s.task_id, s.name, s.attempts, s.max_attempts, s.retryable, s.inputs,
              s.transition_seq, p.from_state, p.ready_at
),
started AS (
    UPDATE tasks t
    SET state = 'in_progress', transition_seq = t.transition_seq + 1, updated_at = $1
    WHERE t.id IN (SELECT task_id FROM claimed) AND t.state = 'pending'
    RETURNING t.id, t.transition_seq
)
SELECT c.id, c.task_id, t.template_id, c.name, c.attempts, c.max_attempts, c.retryable,
       c.inputs, t.context, c.transition_seq, c.from_state,
       st.transition_seq AS task_transition_seq,
       ARRAY(SELECT p.name
             FROM workflow_step_edges e JOIN workflow_steps p ON p.id = e.from_step_id
             WHERE e.to_step_id = c.id
             ORDER BY p.position) AS parent_names,
       ARRAY(SELECT coalesce(p.results, 'null'::jsonb)
             FROM workflow_step_edges e JOIN workflow_steps p ON p.id = e.from_step_id
             WHERE e.to_step_id = c.id
             ORDER BY p.position) AS parent_results
FROM claimed c
JOIN tasks t ON t.id = c.task_id
LEFT JOIN started st ON st.id = c.task_id
ORDER BY c.ready_at, c.id
