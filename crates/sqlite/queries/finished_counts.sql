-- Tasks finished in [?1, ?2) per bucket of ?3 microseconds (the bucket's number: microseconds
-- since the epoch / ?3, floored), oldest first. Reads the covering index tasks_completed_at
-- alone.
SELECT bucket,
       SUM(state = 'complete'),
       SUM(state = 'error'),
       SUM(state = 'cancelled'),
       COALESCE(SUM(steps_total), 0)
FROM (
    SELECT CASE WHEN completed_at >= 0 THEN completed_at / ?3
                ELSE (completed_at + 1) / ?3 - 1 END AS bucket,
           state, steps_total
    FROM tasks INDEXED BY tasks_completed_at
    WHERE completed_at >= ?1 AND completed_at < ?2
)
GROUP BY bucket
ORDER BY bucket
