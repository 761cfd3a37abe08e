SELECT (SELECT COUNT(*) FROM tasker_baseline_queue WHERE state = 2),
       (SELECT COUNT(*) FROM tasker_baseline_queue WHERE claims > 1)
