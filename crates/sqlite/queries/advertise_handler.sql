-- Worker ?1 runs, as of ?4, the steps of queue ?2 ('' = in-process) with handler ?3.
INSERT INTO worker_handlers (worker, queue, handler, seen_at)
VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (queue, handler, worker) DO UPDATE SET seen_at = excluded.seen_at
