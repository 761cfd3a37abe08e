UPDATE workflow_steps s
SET lease_expires_at = $2
FROM unnest($3::bigint[], $4::integer[]) AS r(id, attempt)
WHERE s.id = r.id AND s.attempts = r.attempt AND s.state = 'in_progress' AND s.lease_owner = $1
