WITH picked AS (
    SELECT id FROM tasker_baseline_jobs
    WHERE state = 'ready'
    ORDER BY id
    LIMIT $1
    FOR NO KEY UPDATE SKIP LOCKED
)
UPDATE tasker_baseline_jobs j
SET state = 'running', claims = j.claims + 1
FROM picked p
WHERE j.id = p.id
RETURNING j.id
