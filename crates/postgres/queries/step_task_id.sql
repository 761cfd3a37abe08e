SELECT task_id FROM workflow_steps WHERE id = $1
