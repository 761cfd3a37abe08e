, counts AS (
    SELECT COUNT(*) AS total_steps,
           COALESCE(SUM(state = 'pending'), 0) AS pending_steps,
           COALESCE(SUM(state = 'in_progress'), 0) AS in_progress_steps,
           COALESCE(SUM(state IN ('complete', 'resolved_manually')), 0) AS completed_steps,
           COALESCE(SUM(state = 'error'), 0) AS failed_steps,
           COALESCE(SUM(ready_for_execution), 0) AS ready_steps,
           COALESCE(SUM(state = 'error' AND NOT eligible), 0) AS permanently_blocked_steps
    FROM readiness
),
status AS (
    SELECT counts.*,
           CASE WHEN permanently_blocked_steps > 0 THEN 'blocked_by_failures'
                WHEN ready_steps > 0 THEN 'has_ready_steps'
                WHEN in_progress_steps > 0 THEN 'processing'
                WHEN total_steps > 0 AND completed_steps = total_steps THEN 'all_complete'
                ELSE 'waiting_for_dependencies' END AS execution_status
    FROM counts
)
SELECT total_steps, pending_steps, in_progress_steps, completed_steps, failed_steps, ready_steps,
       permanently_blocked_steps, execution_status,
       CASE execution_status
            WHEN 'blocked_by_failures' THEN 'handle_failures'
            WHEN 'has_ready_steps' THEN 'execute_ready_steps'
            WHEN 'processing' THEN 'wait_for_completion'
            WHEN 'all_complete' THEN 'finalize_task'
            ELSE 'wait_for_dependencies' END,
       CASE WHEN total_steps = 0 THEN 0.0
            ELSE ROUND(completed_steps * 10000.0 / total_steps) / 100.0 END,
       CASE WHEN permanently_blocked_steps > 0 THEN 'blocked'
            WHEN failed_steps > 0 THEN 'recovering'
            ELSE 'healthy' END
FROM status
