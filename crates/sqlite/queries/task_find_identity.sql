SELECT id, context FROM tasks WHERE identity_hash = ?1
