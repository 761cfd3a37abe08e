INSERT INTO tasker_baseline_queue (id, state) VALUES (?1, 0)
