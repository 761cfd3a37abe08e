SELECT id, name, scopes, token_hash, created_at, revoked_at FROM api_tokens ORDER BY id
