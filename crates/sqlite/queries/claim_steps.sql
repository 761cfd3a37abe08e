-- One handler's oldest runnable steps on queue ?3 ('' = in-process), up to the limit ?2: one
-- range of the ready index (queue, handler, ready_at, id). A claim joins one such branch per
-- handler of its filter with UNION ALL (`?HANDLER` becomes that handler's parameter) and takes
-- the oldest of them all, so that no backlog of one handler delays another's steps. INDEXED BY
-- pins the partial index: after ANALYZE on a table where most rows are ready, the planner may
-- otherwise prefer a scan.
SELECT * FROM (
    SELECT id, state, ready_at
    FROM workflow_steps INDEXED BY workflow_steps_ready
    WHERE queue = ?3 AND handler = ?HANDLER AND ready_at IS NOT NULL AND ready_at <= ?1
    ORDER BY ready_at, id
    LIMIT ?2
)
