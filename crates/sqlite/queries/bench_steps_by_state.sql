SELECT state, COUNT(*) FROM workflow_steps GROUP BY state
