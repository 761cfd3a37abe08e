SELECT id, task_id AS owner_id, NULL::text AS step_name, from_state, to_state, metadata,
       sort_key, most_recent, created_at
FROM task_transitions
WHERE task_id = $1 AND most_recent
