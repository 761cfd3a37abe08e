-- Extend to $2 the leases that owner $1 still holds, live at $5 (not yet expired), on the given
-- steps ($3) and attempts ($4); returns the ids renewed. An expired lease is lost even if no
-- rescuer took it yet.
-- Steps are read by key (LATERAL, fenced with OFFSET 0) rather than through the partial index
-- of the owner's running steps. The update re-checks the owner, without naming the state (which
-- would make that index eligible again): a completion that committed meanwhile cleared it.
UPDATE workflow_steps s
SET lease_expires_at = $2
FROM (
    SELECT r.id, r.attempt
    FROM unnest($3::bigint[], $4::integer[]) AS r(id, attempt)
    CROSS JOIN LATERAL (
        SELECT s.state, s.lease_owner, s.attempts, s.lease_expires_at
        FROM workflow_steps s WHERE s.id = r.id OFFSET 0
    ) cur
    WHERE cur.state = 'in_progress' AND cur.lease_owner = $1 AND cur.attempts = r.attempt
      AND cur.lease_expires_at > $5
) r
WHERE s.id = r.id
  AND s.attempts = r.attempt
  AND s.lease_owner = $1
  AND s.lease_expires_at > $5
RETURNING s.id
