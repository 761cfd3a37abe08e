SELECT id, identity_hash, context FROM tasks WHERE identity_hash = ANY ($1::text[])
