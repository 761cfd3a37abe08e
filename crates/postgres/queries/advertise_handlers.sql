-- Worker $1 runs, as of $4, the steps of queue $2 ('' = in-process) with handlers $3 (distinct):
-- upsert one row per handler. Rows of any worker last seen before $5 are forgotten, except
-- those this statement upserts (a statement must not touch a row twice); rows another
-- advertisement holds are skipped, not waited for, so that two of them never wait on each
-- other: the next advertisement forgets them.
WITH upserted AS (
    INSERT INTO worker_handlers (worker, queue, handler, seen_at)
    SELECT $1, $2, h.handler, $4
    FROM unnest($3::text[]) AS h(handler)
    ORDER BY h.handler
    ON CONFLICT (queue, handler, worker) DO UPDATE SET seen_at = excluded.seen_at
),
stale AS (
    SELECT w.queue, w.handler, w.worker
    FROM worker_handlers w
    WHERE w.seen_at < $5
      AND NOT (w.worker = $1 AND w.queue = $2 AND w.handler = ANY ($3::text[]))
    FOR UPDATE SKIP LOCKED
)
DELETE FROM worker_handlers w
USING stale d
WHERE (w.queue, w.handler, w.worker) = (d.queue, d.handler, d.worker)
