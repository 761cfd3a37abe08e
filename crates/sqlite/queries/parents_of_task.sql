-- (child id, parent name) for every edge into a step of the task, parents in template order.
SELECT e.to_step_id, p.name
FROM workflow_steps c
JOIN workflow_step_edges e ON e.to_step_id = c.id
JOIN workflow_steps p ON p.id = e.from_step_id
WHERE c.task_id = ?1
ORDER BY p.position
