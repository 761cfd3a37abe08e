-- A blocked task with nothing running any more has failed. Running steps are counted among
-- the task's steps (see complete_steps_tasks.sql).
UPDATE tasks t
SET state = 'error', completed_at = $2, transition_seq = t.transition_seq + 1, updated_at = $2
WHERE t.id = ANY ($1::bigint[])
  AND t.state = 'in_progress'
  AND t.steps_failed > 0
  AND (SELECT count(*) FILTER (WHERE s.state = 'in_progress')
       FROM workflow_steps s WHERE s.task_id = t.id) = 0
RETURNING t.id, t.transition_seq
