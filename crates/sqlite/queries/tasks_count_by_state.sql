SELECT state, COUNT(*) FROM tasks GROUP BY state ORDER BY state
