-- One step of a seeded task (created ?7): runnable at ?9, its one attempt from ?10 to ?11; ?8
-- is its inputs, ?12 its handler, ?13 its queue ('' in-process).
INSERT INTO workflow_steps (task_id, position, name, handler, queue, state, attempts,
                            max_attempts, retry_limit, retryable, total_parents,
                            unsatisfied_parents, ready_at, last_ready_at, last_attempted_at,
                            inputs, results, transition_seq, created_at, updated_at)
VALUES (?1, ?2, ?3, ?12, ?13, 'complete', 1, ?4, ?4, ?5, ?6, 0, NULL, ?9, ?10, ?8, '{}', 3, ?7,
        ?11)
