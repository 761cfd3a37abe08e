SELECT state, count(*) AS n FROM workflow_steps GROUP BY state
