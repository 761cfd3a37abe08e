-- How many steps are runnable at ?1, counting at most ?2: a walk of the ready index (pinned,
-- as for claims) that stops after ?2 entries.
SELECT COUNT(*)
FROM (
    SELECT 1 FROM workflow_steps INDEXED BY workflow_steps_ready
    WHERE ready_at IS NOT NULL AND ready_at <= ?1
    LIMIT ?2
)
