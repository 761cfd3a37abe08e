-- The three transitions of a finished task (created ?2, complete ?3); the last is current (its
-- sort key is the task's transition sequence, 3).
INSERT INTO task_transitions (task_id, from_state, to_state, metadata, sort_key, created_at)
VALUES (?1, NULL, 'pending', '{}', 1, ?2),
       (?1, 'pending', 'in_progress', '{}', 2, ?2),
       (?1, 'in_progress', 'complete', '{}', 3, ?3)
