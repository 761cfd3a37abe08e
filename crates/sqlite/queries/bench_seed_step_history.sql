-- The three transitions of a finished step (created ?2, started ?3, complete ?4); the last is
-- current (its sort key is the step's transition sequence, 3).
INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, metadata,
                                       sort_key, created_at)
VALUES (?1, NULL, 'pending', '{}', 1, ?2),
       (?1, 'pending', 'in_progress', '{"attempt": 1}', 2, ?3),
       (?1, 'in_progress', 'complete', '{"attempt": 1}', 3, ?4)
