-- The current transition of a task: the one numbered with the task's transition sequence.
SELECT tr.id, tr.task_id, NULL, tr.from_state, tr.to_state, tr.metadata, tr.sort_key, 1,
       tr.created_at
FROM tasks t
JOIN task_transitions tr ON tr.task_id = t.id AND tr.sort_key = t.transition_seq
WHERE t.id = ?1
