-- The current transition of a task or step is the one whose sort key equals the owner's
-- `transition_seq` (see the PostgreSQL migration of the same name).
DROP INDEX task_transitions_most_recent;
DROP INDEX workflow_step_transitions_most_recent;
ALTER TABLE task_transitions DROP COLUMN most_recent;
ALTER TABLE workflow_step_transitions DROP COLUMN most_recent;
