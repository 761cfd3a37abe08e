SELECT EXISTS (SELECT 1 FROM workflow_steps WHERE task_id = ?1 AND state = 'in_progress')
