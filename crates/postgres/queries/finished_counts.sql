-- Tasks finished in [$1, $2) per bucket of $3 seconds aligned to the epoch, oldest first;
-- buckets with none are left out. One count per bucket, each an index-only range scan of
-- tasks_completed_at (which includes the state and steps_total counted): the work is the
-- tasks finished in the range plus one index descent per bucket, with no sort or hash of the
-- rows, whatever the planner estimates (grouping a million rows by a computed bucket was a
-- sort spilled to disk once the table had statistics).
SELECT b.bucket_start, c.tasks_complete, c.tasks_error, c.tasks_cancelled, c.steps
FROM generate_series(
         date_bin(make_interval(secs => $3::bigint), $1::timestamptz, 'epoch'::timestamptz),
         $2::timestamptz - interval '1 microsecond',
         make_interval(secs => $3::bigint)
     ) AS b(bucket_start)
CROSS JOIN LATERAL (
    SELECT count(*) AS tasks,
           count(*) FILTER (WHERE t.state = 'complete') AS tasks_complete,
           count(*) FILTER (WHERE t.state = 'error') AS tasks_error,
           count(*) FILTER (WHERE t.state = 'cancelled') AS tasks_cancelled,
           coalesce(sum(t.steps_total), 0)::bigint AS steps
    FROM tasks t
    WHERE t.completed_at >= greatest(b.bucket_start, $1::timestamptz)
      AND t.completed_at < least(b.bucket_start + make_interval(secs => $3::bigint),
                                 $2::timestamptz)
) c
WHERE c.tasks > 0
ORDER BY b.bucket_start
