-- Which of the routes ($1 queues, '' = in-process; $2 handlers) some worker advertised at or
-- after $3, directly or through '*' on the route's queue: their positions (1-based). One probe
-- of the key (queue, handler, worker) per route and name.
SELECT r.position
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(queue, handler, position)
WHERE EXISTS (
    SELECT 1
    FROM worker_handlers w
    WHERE w.queue = r.queue AND w.handler IN (r.handler, '*') AND w.seen_at >= $3
)
ORDER BY r.position
