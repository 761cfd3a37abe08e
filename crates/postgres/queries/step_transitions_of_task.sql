SELECT tr.id, tr.workflow_step_id AS owner_id, s.name AS step_name, tr.from_state, tr.to_state,
       tr.metadata, tr.sort_key, tr.sort_key = s.transition_seq AS most_recent,
       tr.created_at
FROM workflow_steps s
CROSS JOIN LATERAL (
    SELECT * FROM workflow_step_transitions tr WHERE tr.workflow_step_id = s.id OFFSET 0
) tr
WHERE s.task_id = $1
ORDER BY tr.id
