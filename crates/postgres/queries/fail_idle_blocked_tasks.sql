-- A blocked task with nothing running any more has failed.
UPDATE tasks t
SET state = 'error', transition_seq = t.transition_seq + 1, updated_at = $2
WHERE t.id = ANY ($1::bigint[])
  AND t.state = 'in_progress'
  AND t.steps_failed > 0
  AND NOT EXISTS (SELECT 1 FROM workflow_steps s
                  WHERE s.task_id = t.id AND s.state = 'in_progress')
RETURNING t.id, t.transition_seq
