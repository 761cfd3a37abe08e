SELECT state, count(*) AS n FROM tasks GROUP BY state
