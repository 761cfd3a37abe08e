-- Mark the claimed jobs in ?1 (a JSON array of ids) done.
UPDATE tasker_baseline_queue SET state = 2
WHERE id IN (SELECT value FROM json_each(?1)) AND state = 1
