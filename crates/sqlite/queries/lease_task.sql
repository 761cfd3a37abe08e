-- The task of step ?1 while ?2 holds attempt ?3 of it (expired or not).
SELECT task_id
FROM workflow_steps
WHERE id = ?1 AND state = 'in_progress' AND lease_owner = ?2 AND attempts = ?3
