-- The handlers of the steps in the ready index on queue ?1 ('' = in-process), runnable or
-- waiting: a skip scan that jumps from one handler to the next, one index probe each, for a
-- claimer that takes any handler of its queue.
WITH RECURSIVE queue_handlers (handler) AS (
    SELECT (SELECT s.handler
            FROM workflow_steps AS s INDEXED BY workflow_steps_ready
            WHERE s.queue = ?1 AND s.ready_at IS NOT NULL
            ORDER BY s.queue, s.handler
            LIMIT 1)
    UNION ALL
    SELECT (SELECT s.handler
            FROM workflow_steps AS s INDEXED BY workflow_steps_ready
            WHERE s.queue = ?1 AND s.handler > h.handler AND s.ready_at IS NOT NULL
            ORDER BY s.queue, s.handler
            LIMIT 1)
    FROM queue_handlers AS h
    WHERE h.handler IS NOT NULL
)
SELECT handler FROM queue_handlers WHERE handler IS NOT NULL
