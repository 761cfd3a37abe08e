-- The current transition of a task or step is the one whose sort key equals the owner's
-- `transition_seq` (every state change bumps both in the same transaction), found through the
-- unique (owner, sort_key) index. Keeping a `most_recent` flag as well cost every transition an
-- extra UPDATE of the previous row and a second index, for no information the owner row lacks.
DROP INDEX task_transitions_current;
DROP INDEX workflow_step_transitions_current;
ALTER TABLE task_transitions DROP COLUMN most_recent;
ALTER TABLE workflow_step_transitions DROP COLUMN most_recent;
