INSERT INTO workflow_step_transitions
    (workflow_step_id, from_state, to_state, metadata, sort_key, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
