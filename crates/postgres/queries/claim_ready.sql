-- Claim up to $2 runnable steps for owner $3 under a lease until $4 (claim_picked.sql follows
-- this choice of rows).
-- Rows locked by a concurrent claimer are skipped, never waited for. NO KEY UPDATE (like every
-- lock here) does not conflict with the key-share locks that foreign key checks take.
-- A non-null ready_at means runnable (an invariant of every write); filtering on state as well
-- would skew the planner's estimate away from reading the index in order up to the limit.
WITH candidates AS (
    SELECT s.id, s.task_id, s.state AS from_state, s.ready_at
    FROM workflow_steps s
    WHERE s.ready_at <= $1
    ORDER BY s.ready_at, s.id
    LIMIT $2
    FOR NO KEY UPDATE SKIP LOCKED
),
-- A step starts only under its task's row lock, taken here without waiting: a task locked by
-- a completion, a release or an operator action is skipped (its steps stay runnable for a
-- later claim, or stop being so when that writer blocks or cancels the task). Since a claim
-- never waits for a lock, it can never be part of a deadlock; and a writer that holds a task
-- lock sees every step of the task that is running, because none can start until it commits.
-- The task's state is checked again under the lock.
open_tasks AS (
    SELECT t.id
    FROM tasks t
    WHERE t.id = ANY (ARRAY(SELECT DISTINCT c.task_id FROM candidates c))
      AND t.state IN ('pending', 'in_progress')
      AND t.steps_failed = 0
    FOR NO KEY UPDATE SKIP LOCKED
),
picked AS (
    SELECT c.id, c.from_state, c.ready_at
    FROM candidates c
    WHERE c.task_id IN (SELECT o.id FROM open_tasks o)
),
