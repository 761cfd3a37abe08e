-- Readiness of the steps of task ?1 at time ?2, from states and edges only (the definition in
-- tasker_model::readiness). A common prefix of step_readiness and task_execution_context.
WITH s AS (
    SELECT ws.id, ws.task_id, ws.position, ws.name, ws.state, ws.attempts, ws.max_attempts,
           ws.ready_at, ws.last_failure_at, ws.backoff_request_seconds, ws.last_attempted_at,
           (ws.state = 'pending' OR ws.attempts = 0
            OR (ws.retryable = 1 AND ws.attempts < ws.max_attempts)) AS eligible,
           (SELECT COUNT(*) FROM workflow_step_edges e WHERE e.to_step_id = ws.id) AS total_parents,
           (SELECT COUNT(*)
              FROM workflow_step_edges e
              JOIN workflow_steps p ON p.id = e.from_step_id
             WHERE e.to_step_id = ws.id
               AND p.state IN ('complete', 'resolved_manually')) AS completed_parents
    FROM workflow_steps ws
    WHERE ws.task_id = ?1
),
task AS (
    SELECT t.state IN ('pending', 'in_progress')
           AND NOT EXISTS (SELECT 1 FROM s WHERE s.state = 'error' AND NOT s.eligible)
           AS accepts_work
    FROM tasks t
    WHERE t.id = ?1
),
r AS (
    SELECT s.*,
           s.completed_parents = s.total_parents AS dependencies_satisfied,
           CASE WHEN s.state = 'error' AND s.eligible THEN s.ready_at END AS next_retry_at
    FROM s
),
readiness AS (
    SELECT r.*,
           (r.state IN ('pending', 'error')
            AND r.dependencies_satisfied
            AND r.eligible
            AND CASE WHEN r.state = 'error'
                     THEN r.next_retry_at IS NOT NULL AND r.next_retry_at <= ?2
                     ELSE 1 END
            AND task.accepts_work) AS ready_for_execution
    FROM r, task
)
