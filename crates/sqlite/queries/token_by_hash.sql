-- The live token with hash ?1 (its unique index).
SELECT id, name, scopes, token_hash, created_at, revoked_at
FROM api_tokens
WHERE token_hash = ?1 AND revoked_at IS NULL
