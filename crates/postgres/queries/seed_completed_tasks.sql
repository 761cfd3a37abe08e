-- Bulk-load $2 tasks of template $1 that already ran to completion at $3, with the steps of the
-- layout ($4..$9, by position), its edges ($10, $11: positions) and a real run's history.
-- For benchmarks that measure the hot queries against a large history.
WITH new_tasks AS (
    INSERT INTO tasks (template_id, state, context, steps_total, steps_remaining, steps_failed,
                       transition_seq, created_at, updated_at, completed_at)
    SELECT $1, 'complete', '{}'::jsonb, cardinality($4::text[]), 0, 0, 3, $3, $3, $3
    FROM generate_series(1, $2::integer)
    RETURNING id
),
new_steps AS (
    INSERT INTO workflow_steps (task_id, position, name, state, attempts, max_attempts,
                                retry_limit, retryable, total_parents, unsatisfied_parents,
                                last_attempted_at, inputs, results, transition_seq,
                                created_at, updated_at)
    SELECT t.id, l.position, l.name, 'complete', 1, l.max_attempts, l.max_attempts,
           l.retryable, l.total_parents, 0, $3, l.inputs, '{}'::jsonb, 3, $3, $3
    FROM new_tasks t
    CROSS JOIN unnest($4::text[], $5::integer[], $6::integer[], $7::boolean[], $8::integer[],
                      $9::jsonb[]) AS l(name, position, max_attempts, retryable, total_parents,
                                        inputs)
    RETURNING id, task_id, position
),
new_edges AS (
    INSERT INTO workflow_step_edges (from_step_id, to_step_id)
    SELECT p.id, c.id
    FROM unnest($10::integer[], $11::integer[]) AS e(parent, child)
    JOIN new_steps p ON p.position = e.parent
    JOIN new_steps c ON c.task_id = p.task_id AND c.position = e.child
),
history(from_state, to_state, sort_key, metadata) AS (
    VALUES (NULL, 'pending', 1, '{}'::jsonb),
           ('pending', 'in_progress', 2, '{"attempt": 1}'::jsonb),
           ('in_progress', 'complete', 3, '{"attempt": 1}'::jsonb)
),
task_history AS (
    INSERT INTO task_transitions (task_id, from_state, to_state, metadata, sort_key, created_at)
    SELECT t.id, h.from_state, h.to_state, '{}'::jsonb, h.sort_key, $3
    FROM new_tasks t CROSS JOIN history h
)
INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, metadata,
                                       sort_key, created_at)
SELECT s.id, h.from_state, h.to_state, h.metadata, h.sort_key, $3
FROM new_steps s CROSS JOIN history h
