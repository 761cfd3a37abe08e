-- ?1 name, ?2 owner.
DELETE FROM tasker_leaders WHERE name = ?1 AND owner = ?2
