-- A step of task ?1 becomes runnable: step ?2, at ?3.
INSERT INTO tasker_bare_steps (task_id, step, created_at) VALUES (?1, ?2, ?3)
