SELECT tr.id, tr.task_id AS owner_id, NULL::text AS step_name, tr.from_state, tr.to_state,
       tr.metadata, tr.sort_key, tr.sort_key = t.transition_seq AS most_recent,
       tr.created_at
FROM tasks t
JOIN task_transitions tr ON tr.task_id = t.id
WHERE t.id = $1
ORDER BY tr.sort_key
