-- Claim up to ?1 jobs, oldest first (one writer at a time: nothing to skip).
UPDATE tasker_baseline_queue
SET state = 1, claims = claims + 1
WHERE id IN (
    SELECT id FROM tasker_baseline_queue INDEXED BY tasker_baseline_queue_ready
    WHERE state = 0 ORDER BY id LIMIT ?1
)
RETURNING id
