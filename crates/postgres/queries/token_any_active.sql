-- Whether a token that is not revoked exists (a small table: a scan is fine).
SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL) AS any_active
