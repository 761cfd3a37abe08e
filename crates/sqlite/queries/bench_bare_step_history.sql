INSERT INTO tasker_bare_step_history (owner, seq, state, at) VALUES (?1, ?2, ?3, ?4)
