INSERT INTO tasker_bare_task_history (owner, seq, state, at) VALUES (?1, ?2, ?3, ?4)
