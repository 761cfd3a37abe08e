-- Ordered by the partial indexes' keys so that the planner reads one index entry each, rather
-- than scanning the table for a first match when many rows qualify.
SELECT coalesce((SELECT true FROM workflow_steps WHERE ready_at IS NOT NULL
                 ORDER BY queue, handler, ready_at, id LIMIT 1), false) AS scheduled,
       coalesce((SELECT true FROM workflow_steps WHERE state = 'in_progress'
                 ORDER BY lease_expires_at LIMIT 1), false) AS running
