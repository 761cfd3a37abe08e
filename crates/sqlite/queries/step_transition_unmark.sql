UPDATE workflow_step_transitions SET most_recent = 0
WHERE workflow_step_id = ?1 AND most_recent = 1
