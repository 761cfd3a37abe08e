-- Fenced like complete_step_success. ?6 is the retry time (NULL: failed for good); ?8 caps
-- max_attempts at the attempts made, so that a step failed for good has no retry left. ?9 is
-- the failure as JSON (message, kind, attempt, at), kept after a later success.
UPDATE workflow_steps
SET state = 'error',
    ready_at = ?6,
    last_failure_at = ?4,
    last_error = ?9,
    backoff_request_seconds = ?7,
    max_attempts = CASE WHEN ?8 THEN attempts ELSE max_attempts END,
    lease_owner = NULL,
    lease_expires_at = NULL,
    transition_seq = transition_seq + 1,
    updated_at = ?4
WHERE id = ?1 AND state = 'in_progress' AND lease_owner = ?2 AND attempts = ?3
  AND CASE WHEN ?5 THEN lease_expires_at < ?4 ELSE lease_expires_at >= ?4 END
RETURNING task_id, transition_seq
