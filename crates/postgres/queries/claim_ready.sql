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
-- A step starts only under its task's row lock, taken here without waiting: a task locked by
-- a completion, a release or an operator action is skipped (its steps stay runnable for a
-- later claim, or stop being so when that writer blocks or cancels the task). Since a claim
-- never waits for a lock, it can never be part of a deadlock; and a writer that holds a task
-- lock sees every step of the task that is running, because none can start until it commits.
-- The task's state is checked again under the lock. coalesce() on the (non-null) state keeps
-- the lookup on the primary key: as a plain condition the planner ANDs in a bitmap of the
-- (state, id) index, which reads an entry for every open task on each claim.
open_tasks AS (
    SELECT t.id
    FROM tasks t
    WHERE t.id = ANY (ARRAY(SELECT DISTINCT c.task_id FROM candidates c))
      AND coalesce(t.state, '') IN ('pending', 'in_progress')
      AND t.steps_failed = 0
    FOR NO KEY UPDATE SKIP LOCKED
),
-- The locked tasks as one array, built once: as `IN (SELECT ... FROM open_tasks)` the planner
-- (which cannot estimate a CTE) rescans the CTE for every candidate, quadratic in the batch.
picked AS (
    SELECT c.id, c.from_state, c.ready_at
    FROM candidates c
    WHERE c.task_id = ANY (ARRAY(SELECT o.id FROM open_tasks o))
),
