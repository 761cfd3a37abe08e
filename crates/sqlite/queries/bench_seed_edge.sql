INSERT INTO workflow_step_edges (from_step_id, to_step_id) VALUES (?1, ?2)
