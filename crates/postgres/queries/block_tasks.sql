-- A blocked (or cancelled) task starts nothing new: no step of it stays claimable.
UPDATE workflow_steps SET ready_at = NULL, updated_at = $2
WHERE task_id = ANY ($1::bigint[]) AND ready_at IS NOT NULL
