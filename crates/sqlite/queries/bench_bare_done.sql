-- Claimed step ?1 completed at ?2.
UPDATE tasker_bare_steps SET state = 2, completed_at = ?2 WHERE id = ?1 AND state = 1
