-- The earliest ready_at among the steps of queue $1 ('' = in-process) whose handler is one of
-- $2 (null: any handler of the queue, found by the skip scan of claim_ready.sql): one probe
-- of the ready index (queue, handler, ready_at, id) per handler.
WITH RECURSIVE queue_handlers AS (
    (SELECT s.handler
     FROM workflow_steps s
     WHERE s.queue = $1 AND s.ready_at IS NOT NULL
     ORDER BY s.queue, s.handler
     LIMIT 1)
    UNION ALL
    SELECT (SELECT s.handler
            FROM workflow_steps s
            WHERE s.queue = $1 AND s.handler > h.handler AND s.ready_at IS NOT NULL
            ORDER BY s.queue, s.handler
            LIMIT 1)
    FROM queue_handlers h
    WHERE h.handler IS NOT NULL
)
SELECT min(n.ready_at) AS ready_at
FROM unnest(coalesce($2::text[],
                     ARRAY(SELECT h.handler FROM queue_handlers h
                           WHERE h.handler IS NOT NULL))) AS h(handler)
CROSS JOIN LATERAL (
    SELECT s.ready_at
    FROM workflow_steps s
    WHERE s.queue = $1 AND s.handler = h.handler AND s.ready_at IS NOT NULL
    ORDER BY s.ready_at
    LIMIT 1
) n
