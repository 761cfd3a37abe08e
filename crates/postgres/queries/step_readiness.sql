SELECT * FROM tasker_step_readiness($1::bigint[], $2::timestamptz)
