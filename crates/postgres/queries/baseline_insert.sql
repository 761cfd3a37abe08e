INSERT INTO tasker_baseline_jobs (state) SELECT 'ready' FROM generate_series(1, $1::bigint)
