-- The oldest runnable steps. INDEXED BY pins the partial index: after ANALYZE on a table where
-- most rows are ready, the planner may otherwise prefer a scan.
SELECT id, state
FROM workflow_steps INDEXED BY workflow_steps_ready
WHERE ready_at IS NOT NULL AND ready_at <= ?1
ORDER BY ready_at, id
LIMIT ?2
