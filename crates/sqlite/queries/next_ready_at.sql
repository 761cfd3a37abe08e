SELECT MIN(ready_at) FROM workflow_steps WHERE ready_at IS NOT NULL
