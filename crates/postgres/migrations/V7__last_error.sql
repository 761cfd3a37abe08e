-- A step keeps its latest failure (message, kind, attempt, at) as a JSON object, written by
-- the statement that records the failed outcome. Failures recorded before this migration are
-- not backfilled: their text stays in the step's transition history.
-- The SQLite migration V6__last_error.sql has the same content in its dialect.
ALTER TABLE workflow_steps ADD COLUMN last_error jsonb;
