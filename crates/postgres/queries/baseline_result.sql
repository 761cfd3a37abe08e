SELECT count(*) FILTER (WHERE state = 'done') AS completed,
       count(*) FILTER (WHERE claims > 1) AS claimed_twice
FROM tasker_baseline_jobs
