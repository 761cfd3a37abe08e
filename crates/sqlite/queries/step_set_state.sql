-- Compare-and-set of a step's state for operator actions; the step stops being runnable.
UPDATE workflow_steps
SET state = ?3,
    ready_at = NULL,
    transition_seq = transition_seq + 1,
    updated_at = ?4
WHERE id = ?1 AND state = ?2
RETURNING transition_seq
