-- Whole-table counts for checking a benchmark's end state (scans by design).
SELECT (SELECT count(*) FROM task_transitions) AS task_transitions,
       (SELECT count(*) FROM task_transitions WHERE most_recent) AS current_task_transitions,
       (SELECT count(*) FROM workflow_step_transitions) AS step_transitions,
       (SELECT count(*) FROM workflow_step_transitions WHERE most_recent)
           AS current_step_transitions,
       (SELECT count(*) FROM workflow_step_edges) AS edges
