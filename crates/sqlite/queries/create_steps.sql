-- ?10 handler, ?11 queue ('' = in-process).
INSERT INTO workflow_steps
    (task_id, position, name, handler, queue, state, attempts, max_attempts, retry_limit,
     retryable, total_parents, unsatisfied_parents, ready_at, inputs, transition_seq, created_at,
     updated_at)
VALUES (?1, ?2, ?3, ?10, ?11, 'pending', 0, ?4, ?4, ?5, ?6, ?6, ?7, ?8, 1, ?9, ?9)
