DROP TABLE IF EXISTS tasker_baseline_jobs
