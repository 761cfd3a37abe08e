-- Task ?1's join step waits for ?2 parents.
INSERT INTO tasker_bare_joins (task_id, remaining) VALUES (?1, ?2)
