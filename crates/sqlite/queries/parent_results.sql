SELECT p.name, p.results
FROM workflow_step_edges e
JOIN workflow_steps p ON p.id = e.from_step_id
WHERE e.to_step_id = ?1
ORDER BY p.position
