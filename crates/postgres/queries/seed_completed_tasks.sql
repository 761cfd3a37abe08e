-- Bulk-load tasks $13 .. $13 + $2 - 1 of the $14 tasks of template $1 that ran to completion
-- by $3, with the steps of the layout ($4..$9 and their levels $12, by position), its edges
-- ($10, $11: positions), their handlers and queues ($16, $17: '' in-process) and a real run's
-- history. When each task and step ran follows tasker_store::seeding, in the same integer
-- arithmetic (microseconds; $15 is the number of levels). For benchmarks that measure the hot queries and analytics against a large history.
WITH seeded AS (
    SELECT k, $3::timestamptz - (($14::bigint - 1 - k) * 86400000000 / $14::bigint)
                                * interval '1 microsecond' AS completed_at,
           50000 * (CASE WHEN k % 97 = 0 THEN 10 ELSE 1 END) * (100 + (k * 7919) % 100) / 100
               AS slot
    FROM generate_series($13::bigint, $13::bigint + $2::bigint - 1) AS k
),
new_tasks AS (
    INSERT INTO tasks (template_id, state, context, steps_total, steps_remaining, steps_failed,
                       transition_seq, created_at, updated_at, completed_at)
    SELECT $1, 'complete', '{}'::jsonb, cardinality($4::text[]), 0, 0, 3,
           s.completed_at - $15::bigint * s.slot * interval '1 microsecond', s.completed_at,
           s.completed_at
    FROM seeded s
    ORDER BY s.k
    RETURNING id, created_at, completed_at
),
-- A task's slot comes back from its own times: (completed_at - created_at) / levels.
timed AS (
    SELECT t.id, t.created_at, t.completed_at,
           (extract(epoch FROM t.completed_at - t.created_at) * 1000000)::bigint / $15::bigint
               AS slot
    FROM new_tasks t
),
new_steps AS (
    INSERT INTO workflow_steps (task_id, position, name, handler, queue, state, attempts,
                                max_attempts, retry_limit, retryable, total_parents,
                                unsatisfied_parents, last_ready_at, last_attempted_at, inputs,
                                results, transition_seq, created_at, updated_at)
    SELECT t.id, l.position, l.name, l.handler, l.queue, 'complete', 1, l.max_attempts,
           l.max_attempts,
           l.retryable, l.total_parents, 0,
           r.ready_at, r.attempted_at, l.inputs, '{}'::jsonb, 3, t.created_at,
           r.attempted_at
               + t.slot * (30 + (t.id * 31 + l.position * 17) % 50) / 100
                 * interval '1 microsecond'
    FROM timed t
    CROSS JOIN unnest($4::text[], $5::integer[], $6::integer[], $7::boolean[], $8::integer[],
                      $9::jsonb[], $12::bigint[], $16::text[], $17::text[])
               AS l(name, position, max_attempts, retryable, total_parents, inputs, level,
                    handler, queue)
    CROSS JOIN LATERAL (
        SELECT t.created_at + l.level * t.slot * interval '1 microsecond' AS ready_at
    ) ready
    CROSS JOIN LATERAL (
        SELECT ready.ready_at,
               ready.ready_at + t.slot * (2 + (t.id * 7 + l.position * 13) % 8) / 100
                                * interval '1 microsecond' AS attempted_at
    ) r
    RETURNING id, task_id, position, created_at, last_attempted_at, updated_at
),
new_edges AS (
    INSERT INTO workflow_step_edges (from_step_id, to_step_id)
    SELECT p.id, c.id
    FROM unnest($10::integer[], $11::integer[]) AS e(parent, child)
    JOIN new_steps p ON p.position = e.parent
    JOIN new_steps c ON c.task_id = p.task_id AND c.position = e.child
),
task_history AS (
    INSERT INTO task_transitions (task_id, from_state, to_state, metadata, sort_key, created_at)
    SELECT t.id, h.from_state, h.to_state, '{}'::jsonb, h.sort_key,
           CASE WHEN h.sort_key = 3 THEN t.completed_at ELSE t.created_at END
    FROM new_tasks t
    CROSS JOIN (VALUES (NULL, 'pending', 1), ('pending', 'in_progress', 2),
                       ('in_progress', 'complete', 3)) AS h(from_state, to_state, sort_key)
)
INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, metadata,
                                       sort_key, created_at)
SELECT s.id, h.from_state, h.to_state, h.metadata, h.sort_key,
       CASE h.sort_key WHEN 1 THEN s.created_at WHEN 2 THEN s.last_attempted_at
                       ELSE s.updated_at END
FROM new_steps s
CROSS JOIN (VALUES (NULL, 'pending', 1, '{}'::jsonb),
                   ('pending', 'in_progress', 2, '{"attempt": 1}'::jsonb),
                   ('in_progress', 'complete', 3, '{"attempt": 1}'::jsonb))
     AS h(from_state, to_state, sort_key, metadata)
