-- Claim up to $2 runnable steps for owner $3 under a lease until $4 (claim_picked.sql follows
-- this choice of rows).
-- Rows locked by a concurrent claimer are skipped, never waited for. NO KEY UPDATE (like every
-- lock here) does not conflict with the key-share locks that foreign key checks take.
-- A non-null ready_at means runnable (an invariant of every write); filtering on state as well
-- would skew the planner's estimate away from reading the index in order up to the limit.
WITH picked AS (
    SELECT s.id, s.state AS from_state, s.ready_at
    FROM workflow_steps s
    WHERE s.ready_at <= $1
    ORDER BY s.ready_at, s.id
    LIMIT $2
    FOR NO KEY UPDATE SKIP LOCKED
),
