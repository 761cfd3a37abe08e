SELECT DISTINCT task_id FROM workflow_steps WHERE state = 'in_progress' AND lease_owner = $1
