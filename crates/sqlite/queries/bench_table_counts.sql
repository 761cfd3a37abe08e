-- Whole-table counts for checking a benchmark's end state (scans by design). A transition is
-- current when its sort key is its owner's transition sequence.
SELECT (SELECT COUNT(*) FROM task_transitions),
       (SELECT COUNT(*) FROM tasks t
        JOIN task_transitions tr ON tr.task_id = t.id AND tr.sort_key = t.transition_seq),
       (SELECT COUNT(*) FROM workflow_step_transitions),
       (SELECT COUNT(*) FROM workflow_steps s
        JOIN workflow_step_transitions tr
          ON tr.workflow_step_id = s.id AND tr.sort_key = s.transition_seq),
       (SELECT COUNT(*) FROM workflow_step_edges)
