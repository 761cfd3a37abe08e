-- Give back owner $1's leases on the given steps ($3) and attempts ($4), expired or not: the
-- attempt is not counted, and the step is claimable at $5 unless its task is blocked or
-- cancelled ($2 = now). Steps are read by key (LATERAL, fenced with OFFSET 0), and the update
-- re-checks owner and attempt without naming the state, as in renew_leases.sql: naming it
-- would make the partial index of every running step eligible.
UPDATE workflow_steps s
SET state = 'pending',
    attempts = s.attempts - 1,
    lease_owner = NULL,
    lease_expires_at = NULL,
    ready_at = CASE
        WHEN t.state IN ('pending', 'in_progress') AND t.steps_failed = 0 THEN $5::timestamptz
    END,
    transition_seq = s.transition_seq + 1,
    updated_at = $2
FROM unnest($3::bigint[], $4::integer[]) AS r(id, attempt)
CROSS JOIN LATERAL (
    SELECT s.task_id, s.state, s.lease_owner, s.attempts
    FROM workflow_steps s WHERE s.id = r.id OFFSET 0
) cur
CROSS JOIN LATERAL (
    SELECT t.state, t.steps_failed FROM tasks t WHERE t.id = cur.task_id OFFSET 0
) t
WHERE cur.state = 'in_progress' AND cur.lease_owner = $1 AND cur.attempts = r.attempt
  AND s.id = r.id
  AND s.lease_owner = $1
  AND s.attempts = r.attempt
RETURNING s.id, s.task_id, s.attempts, s.transition_seq
