-- One parent of each child is now satisfied. The primary key of the edges serves the lookup.
UPDATE workflow_steps
SET unsatisfied_parents = unsatisfied_parents - 1,
    updated_at = ?2
WHERE id IN (SELECT to_step_id FROM workflow_step_edges WHERE from_step_id = ?1)
RETURNING id, state, unsatisfied_parents
