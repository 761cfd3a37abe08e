-- Forget advertisements last seen before ?1 (a range of worker_handlers (seen_at)).
DELETE FROM worker_handlers WHERE seen_at < ?1
