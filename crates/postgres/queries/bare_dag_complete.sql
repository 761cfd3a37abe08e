-- Complete the claimed steps $1 of the bare DAG queue in one statement: mark them done, insert
-- the children they release (edges $2 -> $3), and count down the join counters of the join step
-- $4 (locked in task order, so that two workers never wait on each other in a cycle), which
-- releases it at zero. With history ($6): the complete row of each step and of each task whose
-- sink ($5) it is, and the pending row of each released step.
WITH done AS (
    UPDATE tasker_bare_steps s
    SET state = 2, completed_at = clock_timestamp()
    WHERE s.id = ANY ($1::bigint[]) AND s.state = 1
    RETURNING s.id, s.task_id, s.step, s.completed_at
),
edges AS (
    SELECT * FROM unnest($2::smallint[], $3::smallint[]) AS e (parent, child)
),
arrivals AS (
    SELECT d.task_id, count(*)::integer AS n
    FROM done d JOIN edges e ON e.parent = d.step
    WHERE e.child = $4::smallint
    GROUP BY d.task_id
),
locked AS MATERIALIZED (
    SELECT j.task_id FROM tasker_bare_joins j
    WHERE j.task_id IN (SELECT task_id FROM arrivals)
    ORDER BY j.task_id
    FOR NO KEY UPDATE
),
joined AS (
    UPDATE tasker_bare_joins j
    SET remaining = j.remaining - a.n
    FROM arrivals a JOIN locked l USING (task_id)
    WHERE j.task_id = a.task_id
    RETURNING j.task_id, j.remaining
),
released AS (
    INSERT INTO tasker_bare_steps (task_id, step)
    SELECT d.task_id, e.child
    FROM done d JOIN edges e ON e.parent = d.step
    WHERE e.child <> $4::smallint
    UNION ALL
    SELECT task_id, $4::smallint FROM joined WHERE remaining = 0
    RETURNING id, created_at
),
released_history AS (
    INSERT INTO tasker_bare_step_history (owner, seq, state, at)
    SELECT id, 1, 0, created_at FROM released WHERE $6::boolean
),
done_history AS (
    INSERT INTO tasker_bare_step_history (owner, seq, state, at)
    SELECT id, 3, 2, completed_at FROM done WHERE $6::boolean
),
task_history AS (
    INSERT INTO tasker_bare_task_history (owner, seq, state, at)
    SELECT task_id, 3, 2, completed_at FROM done WHERE $6::boolean AND step = $5::smallint
)
SELECT count(*) AS completed FROM done
