-- Tasks finished in [$1, $2) per bucket of $3 seconds (the bucket's number: seconds since the
-- epoch / $3, floored), oldest first. An index-only scan of tasks_completed_at, which includes
-- the state and steps_total it counts.
SELECT floor(extract(epoch FROM t.completed_at) / $3::bigint)::bigint AS bucket,
       count(*) FILTER (WHERE t.state = 'complete') AS tasks_complete,
       count(*) FILTER (WHERE t.state = 'error') AS tasks_error,
       count(*) FILTER (WHERE t.state = 'cancelled') AS tasks_cancelled,
       coalesce(sum(t.steps_total), 0)::bigint AS steps
FROM tasks t
WHERE t.completed_at >= $1 AND t.completed_at < $2
GROUP BY 1
ORDER BY 1
