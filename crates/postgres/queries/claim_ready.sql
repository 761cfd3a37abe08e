-- Claim up to $2 runnable steps of queue $5 ('' = in-process) whose handler is one of $6 (null:
-- any), for owner $3 under a lease until $4 (claim_picked.sql follows this choice of rows).
-- The claimer's handlers: $6, or (null) every handler with an entry in the ready index on
-- queue $5, found by a skip scan that jumps from one handler to the next (one index probe per
-- handler). Evaluated only when $6 is null.
WITH RECURSIVE queue_handlers AS (
    (SELECT s.handler
     FROM workflow_steps s
     WHERE s.queue = $5 AND s.ready_at IS NOT NULL
     ORDER BY s.queue, s.handler
     LIMIT 1)
    UNION ALL
    SELECT (SELECT s.handler
            FROM workflow_steps s
            WHERE s.queue = $5 AND s.handler > h.handler AND s.ready_at IS NOT NULL
            ORDER BY s.queue, s.handler
            LIMIT 1)
    FROM queue_handlers h
    WHERE h.handler IS NOT NULL
),
-- Per handler, its oldest runnable steps up to the limit: one range of the ready index
-- (queue, handler, ready_at, id) each, whatever the backlog of other handlers; then the oldest
-- of them all. Each range locks its rows as it reads them: rows locked by a concurrent claimer
-- are skipped, never waited for; rows read but not taken stay locked (and skipped by others)
-- until this claim commits. NO KEY UPDATE (like every lock here) does not conflict with the
-- key-share locks that foreign key checks take. A non-null ready_at means runnable (an
-- invariant of every write); filtering on state as well would skew the planner's estimate
-- away from reading the index in order up to the limit.
candidates AS (
    SELECT c.id, c.task_id, c.from_state, c.ready_at
    FROM unnest(coalesce($6::text[],
                         ARRAY(SELECT h.handler FROM queue_handlers h
                               WHERE h.handler IS NOT NULL))) AS h(handler)
    CROSS JOIN LATERAL (
        SELECT s.id, s.task_id, s.state AS from_state, s.ready_at
        FROM workflow_steps s
        WHERE s.queue = $5 AND s.handler = h.handler AND s.ready_at <= $1
        ORDER BY s.ready_at, s.id
        LIMIT $2
        FOR NO KEY UPDATE SKIP LOCKED
    ) c
    ORDER BY c.ready_at, c.id
    LIMIT $2
),
-- A step starts only under its task's row lock, taken here without waiting. The lock is the
-- weakest that does the job, so that a claim and a completion of the same task run side by
-- side (a fan-out of one task is otherwise claimed and completed in turn):
-- - A pending task is about to be started (updated) by this claim: NO KEY UPDATE, which
--   another claim skips. Two claims that shared it would each wait for the other's update of
--   a task the other locked first, a deadlock.
-- - A running task: KEY SHARE, which neither the completions' NO KEY UPDATE nor other claims'
--   KEY SHARE conflict with. Writers that must see every running step of a task (a blocking
--   failure, cancel, retry, resolve) take FOR UPDATE, which conflicts with it: this claim skips
--   their tasks, and they wait for claims that locked first to commit.
-- Since a claim never waits for a lock, it can never be part of a deadlock. The task's state
-- is checked again under the lock (on its newest version). coalesce() on the (non-null) state
-- keeps the lookup on the primary key: as a plain condition the planner ANDs in a bitmap of
-- the (state, id) index, which reads an entry for every open task on each claim.
candidate_tasks AS (
    SELECT DISTINCT c.task_id AS id FROM candidates c
),
pending_tasks AS (
    SELECT t.id
    FROM tasks t
    WHERE t.id = ANY (ARRAY(SELECT k.id FROM candidate_tasks k))
      AND coalesce(t.state, '') = 'pending'
      AND t.steps_failed = 0
    FOR NO KEY UPDATE SKIP LOCKED
),
running_tasks AS (
    SELECT t.id
    FROM tasks t
    WHERE t.id = ANY (ARRAY(SELECT k.id FROM candidate_tasks k))
      AND coalesce(t.state, '') = 'in_progress'
      AND t.steps_failed = 0
    FOR KEY SHARE SKIP LOCKED
),
-- The locked tasks as one array, built once: as `IN (SELECT ... FROM pending_tasks ...)` the
-- planner (which cannot estimate a CTE) rescans the CTEs for every candidate, quadratic in the
-- batch.
picked AS (
    SELECT c.id, c.from_state, c.ready_at
    FROM candidates c
    WHERE c.task_id = ANY (ARRAY(SELECT o.id FROM pending_tasks o
                                 UNION ALL
                                 SELECT o.id FROM running_tasks o))
),
