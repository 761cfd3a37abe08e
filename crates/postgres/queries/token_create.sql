-- A new API token ($1 name, $2 scopes, $3 hex SHA-256, $4 now). A duplicate hash is a unique
-- violation (a conflict): a token's hash finds at most one token.
INSERT INTO api_tokens (name, scopes, token_hash, created_at)
VALUES ($1, $2, $3, $4)
RETURNING id, name, scopes, token_hash, created_at, revoked_at
