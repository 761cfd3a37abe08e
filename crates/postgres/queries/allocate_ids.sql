-- Ids for a batch of new tasks and steps, drawn up front so that one statement can insert the
-- tasks, steps, edges and history rows that refer to each other.
SELECT ARRAY(SELECT nextval('tasks_id_seq') FROM generate_series(1, $1::integer)) AS task_ids,
       ARRAY(SELECT nextval('workflow_steps_id_seq') FROM generate_series(1, $2::integer)) AS step_ids
