-- Apply step outcomes, each fenced by state, owner, attempt and lease expiry ($1 = now).
-- Rows that do not match are left alone: those outcomes come back as not applied. A failure
-- without a retry time caps max_attempts at the attempts made, so that the step has no retry
-- left by the model's rule either.
WITH o AS (
    SELECT *
    FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::integer[], $6::boolean[],
                $7::boolean[], $8::jsonb[], $9::timestamptz[], $10::bigint[])
         AS o(step_id, task_id, owner, attempt, lease_expired, ok, result, retry_at,
              backoff_request_seconds)
)
UPDATE workflow_steps s
SET state = CASE WHEN o.ok THEN 'complete' ELSE 'error' END,
    results = CASE WHEN o.ok THEN o.result ELSE s.results END,
    ready_at = CASE
        WHEN NOT o.ok AND t.state IN ('pending', 'in_progress') AND t.steps_failed = 0
            THEN o.retry_at
    END,
    last_failure_at = CASE WHEN o.ok THEN s.last_failure_at ELSE $1 END,
    backoff_request_seconds = CASE
        WHEN o.ok THEN s.backoff_request_seconds ELSE o.backoff_request_seconds
    END,
    max_attempts = CASE
        WHEN NOT o.ok AND o.retry_at IS NULL THEN s.attempts ELSE s.max_attempts
    END,
    lease_owner = NULL,
    lease_expires_at = NULL,
    transition_seq = s.transition_seq + 1,
    updated_at = $1
FROM o, tasks t
WHERE s.id = ANY ($2::bigint[])
  AND s.id = o.step_id
  AND s.task_id = o.task_id
  AND t.id = ANY ($3::bigint[])
  AND t.id = o.task_id
  AND s.state = 'in_progress'
  AND s.lease_owner = o.owner
  AND s.attempts = o.attempt
  AND CASE WHEN o.lease_expired THEN s.lease_expires_at < $1 ELSE s.lease_expires_at >= $1 END
RETURNING s.id, s.transition_seq
