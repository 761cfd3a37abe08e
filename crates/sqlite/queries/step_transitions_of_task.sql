SELECT t.id, t.workflow_step_id, s.name, t.from_state, t.to_state, t.metadata, t.sort_key,
       t.sort_key = s.transition_seq, t.created_at
FROM workflow_steps s
JOIN workflow_step_transitions t ON t.workflow_step_id = s.id
WHERE s.task_id = ?1
ORDER BY t.id
