-- The three transitions of a finished step, the last one current.
INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, metadata,
                                       sort_key, most_recent, created_at)
VALUES (?1, NULL, 'pending', '{}', 1, 0, ?2),
       (?1, 'pending', 'in_progress', '{}', 2, 0, ?2),
       (?1, 'in_progress', 'complete', '{}', 3, 1, ?2)
