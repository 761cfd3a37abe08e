-- Whole-table counts for checking a benchmark's end state (scans by design).
SELECT (SELECT COUNT(*) FROM task_transitions),
       (SELECT COUNT(*) FROM task_transitions WHERE most_recent = 1),
       (SELECT COUNT(*) FROM workflow_step_transitions),
       (SELECT COUNT(*) FROM workflow_step_transitions WHERE most_recent = 1),
       (SELECT COUNT(*) FROM workflow_step_edges)
