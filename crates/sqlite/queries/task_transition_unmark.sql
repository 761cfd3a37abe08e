UPDATE task_transitions SET most_recent = 0 WHERE task_id = ?1 AND most_recent = 1
