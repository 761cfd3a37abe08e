SELECT id FROM tasks WHERE identity_hash = ?1
