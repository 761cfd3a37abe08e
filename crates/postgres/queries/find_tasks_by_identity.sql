SELECT id, identity_hash FROM tasks WHERE identity_hash = ANY ($1::text[])
