-- Whether some worker advertised, at or after ?3, handler ?2 on queue ?1 ('' = in-process)
-- directly or through '*': a probe of the key (queue, handler, worker) per name.
SELECT EXISTS (
    SELECT 1 FROM worker_handlers
    WHERE queue = ?1 AND handler IN (?2, '*') AND seen_at >= ?3
)
