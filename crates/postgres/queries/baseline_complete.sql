UPDATE tasker_baseline_jobs SET state = 'done' WHERE id = ANY ($1::bigint[])
