-- Apply step outcomes, each fenced by state, owner, attempt and lease expiry ($1 = now).
-- Rows that do not match are left alone: those outcomes come back as not applied. A failure
-- without a retry time caps max_attempts at the attempts made, so that the step has no retry
-- left by the model's rule either. A failure also leaves its `last_error` (message, kind,
-- attempt, at); a success keeps the one before, like last_failure_at.
--
-- The fence is checked in a CTE that reads each step by its key (LATERAL, fenced with OFFSET 0);
-- written as plain join conditions, the planner may prefer the partial lease-owner index and
-- scan every running step of the owner once per outcome. The callers lock the outcomes' tasks
-- first, so no other completion of these steps runs between the check and the update.
WITH o AS (
    SELECT *
    FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::integer[], $6::boolean[],
                $7::boolean[], $8::jsonb[], $9::timestamptz[], $10::bigint[], $11::jsonb[])
         AS o(step_id, task_id, owner, attempt, lease_expired, ok, result, retry_at,
              backoff_request_seconds, last_error)
),
fenced AS MATERIALIZED (
    SELECT o.*, t.state AS task_state, t.steps_failed
    FROM o
    CROSS JOIN LATERAL (
        SELECT s.task_id, s.state, s.lease_owner, s.attempts, s.lease_expires_at
        FROM workflow_steps s
        WHERE s.id = o.step_id
        OFFSET 0
    ) s
    CROSS JOIN LATERAL (
        SELECT t.state, t.steps_failed FROM tasks t WHERE t.id = o.task_id OFFSET 0
    ) t
    WHERE s.task_id = o.task_id
      AND s.state = 'in_progress'
      AND s.lease_owner = o.owner
      AND s.attempts = o.attempt
      AND CASE WHEN o.lease_expired THEN s.lease_expires_at < $1
               ELSE s.lease_expires_at >= $1 END
)
UPDATE workflow_steps s
SET state = CASE WHEN f.ok THEN 'complete' ELSE 'error' END,
    results = CASE WHEN f.ok THEN f.result ELSE s.results END,
    ready_at = CASE
        WHEN NOT f.ok AND f.task_state IN ('pending', 'in_progress') AND f.steps_failed = 0
            THEN f.retry_at
    END,
    last_failure_at = CASE WHEN f.ok THEN s.last_failure_at ELSE $1 END,
    last_error = CASE WHEN f.ok THEN s.last_error ELSE f.last_error END,
    backoff_request_seconds = CASE
        WHEN f.ok THEN s.backoff_request_seconds ELSE f.backoff_request_seconds
    END,
    max_attempts = CASE
        WHEN NOT f.ok AND f.retry_at IS NULL THEN s.attempts ELSE s.max_attempts
    END,
    lease_owner = NULL,
    lease_expires_at = NULL,
    transition_seq = s.transition_seq + 1,
    updated_at = $1
FROM fenced f
WHERE s.id = f.step_id
  AND s.attempts = f.attempt
  AND s.lease_owner = f.owner
RETURNING s.id, s.transition_seq
