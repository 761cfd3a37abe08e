SELECT tr.id, tr.task_id, NULL, tr.from_state, tr.to_state, tr.metadata, tr.sort_key,
       tr.sort_key = t.transition_seq, tr.created_at
FROM tasks t
JOIN task_transitions tr ON tr.task_id = t.id
WHERE t.id = ?1
ORDER BY tr.sort_key
