-- Revoke token ?1 at ?2; a revoked token keeps the time it was first revoked. No row: no such
-- token.
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?2)
WHERE id = ?1
RETURNING id, name, scopes, token_hash, created_at, revoked_at
