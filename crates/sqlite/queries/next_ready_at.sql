-- The earliest ready_at of handler ?2's steps on queue ?1 ('' = in-process): one probe of the
-- ready index, per handler of the filter.
SELECT ready_at
FROM workflow_steps INDEXED BY workflow_steps_ready
WHERE queue = ?1 AND handler = ?2 AND ready_at IS NOT NULL
ORDER BY ready_at
LIMIT 1
