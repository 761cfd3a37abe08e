SELECT * FROM tasker_task_execution_context($1::bigint[], $2::timestamptz)
