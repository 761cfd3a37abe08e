SELECT ready_at FROM workflow_steps WHERE ready_at IS NOT NULL ORDER BY ready_at, id LIMIT 1
