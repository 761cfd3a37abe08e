-- Insert a batch of tasks with their steps, edges and creation transitions. A task whose
-- identity hash exists already (or is being inserted by a concurrent creator) is skipped, and
-- so are its steps and edges; the caller reads the winner's id afterwards.
WITH new_tasks AS (
    INSERT INTO tasks (id, template_id, state, context, identity_hash, idempotency_key,
                       traceparent, steps_total, steps_remaining, steps_failed, transition_seq,
                       created_at, updated_at)
    SELECT t.id, t.template_id, 'pending', t.context, t.identity_hash, t.idempotency_key,
           t.traceparent, t.steps_total, t.steps_total, 0, 1, $1, $1
    FROM unnest($2::bigint[], $3::bigint[], $4::jsonb[], $5::text[], $6::text[], $7::integer[],
                $19::text[])
         AS t(id, template_id, context, identity_hash, idempotency_key, steps_total, traceparent)
    ORDER BY t.id
    ON CONFLICT (identity_hash) WHERE identity_hash IS NOT NULL DO NOTHING
    RETURNING id
),
new_steps AS (
    INSERT INTO workflow_steps (id, task_id, position, name, handler, queue, state, attempts,
                                max_attempts, retry_limit, retryable, total_parents,
                                unsatisfied_parents, ready_at, inputs, transition_seq,
                                created_at, updated_at)
    SELECT s.id, s.task_id, s.position, s.name, s.handler, s.queue, 'pending', 0,
           s.max_attempts, s.max_attempts, s.retryable, s.total_parents, s.total_parents,
           CASE WHEN s.total_parents = 0 THEN $1::timestamptz END, s.inputs, 1, $1, $1
    FROM unnest($8::bigint[], $9::bigint[], $10::integer[], $11::text[], $12::integer[],
                $13::boolean[], $14::integer[], $15::jsonb[], $20::text[], $21::text[])
         AS s(id, task_id, position, name, max_attempts, retryable, total_parents, inputs,
              handler, queue)
    WHERE s.task_id IN (SELECT id FROM new_tasks)
    ORDER BY s.id
    RETURNING id
),
new_edges AS (
    INSERT INTO workflow_step_edges (from_step_id, to_step_id)
    SELECT e.from_id, e.to_id
    FROM unnest($16::bigint[], $17::bigint[], $18::bigint[]) AS e(from_id, to_id, task_id)
    WHERE e.task_id IN (SELECT id FROM new_tasks)
),
task_history AS (
    INSERT INTO task_transitions (task_id, from_state, to_state, metadata, sort_key, created_at)
    SELECT id, NULL, 'pending', '{}'::jsonb, 1, $1 FROM new_tasks
),
step_history AS (
    INSERT INTO workflow_step_transitions (workflow_step_id, from_state, to_state, metadata,
                                           sort_key, created_at)
    SELECT id, NULL, 'pending', '{}'::jsonb, 1, $1 FROM new_steps
)
SELECT id FROM new_tasks
