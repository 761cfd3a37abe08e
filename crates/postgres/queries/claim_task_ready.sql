-- Claim up to $2 runnable steps of task $5 only that the filter admits (queue $6, handler one of
-- $7, null: any), for owner $3 under a lease until $4 (claim_picked.sql follows this choice of
-- rows): the claim of an orchestrator that runs one task (`task create --wait`). The task's
-- steps are read by key, workflow_steps (task_id, position), never along the ready index,
-- whose walk would pass every other task's steps: coalesce() on the (non-null) route columns
-- keeps the planner from reading the ready index by route and filtering by task.
-- Otherwise the same as claim_ready.sql: locks are skipped, never waited for.
WITH candidates AS (
    SELECT s.id, s.task_id, s.state AS from_state, s.ready_at
    FROM workflow_steps s
    WHERE s.task_id = $5 AND s.ready_at <= $1
      AND coalesce(s.queue, '') = $6
      AND ($7::text[] IS NULL OR coalesce(s.handler, '') = ANY ($7::text[]))
    ORDER BY s.ready_at, s.id
    LIMIT $2
    FOR NO KEY UPDATE SKIP LOCKED
),
-- The task's lock as claim_ready.sql takes it: NO KEY UPDATE while pending (this claim starts
-- it), KEY SHARE while running (a completion of the task goes on beside it).
pending_task AS (
    SELECT t.id
    FROM tasks t
    WHERE t.id = $5
      AND t.state = 'pending'
      AND t.steps_failed = 0
    FOR NO KEY UPDATE SKIP LOCKED
),
running_task AS (
    SELECT t.id
    FROM tasks t
    WHERE t.id = $5
      AND t.state = 'in_progress'
      AND t.steps_failed = 0
    FOR KEY SHARE SKIP LOCKED
),
picked AS (
    SELECT c.id, c.from_state, c.ready_at
    FROM candidates c
    WHERE c.task_id IN (SELECT o.id FROM pending_task o
                        UNION ALL
                        SELECT o.id FROM running_task o)
),
