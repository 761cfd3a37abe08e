-- A step keeps its latest failure (message, kind, attempt, at) as JSON text. Same content as
-- the PostgreSQL migration V7__last_error.sql (see its comments).
ALTER TABLE workflow_steps ADD COLUMN last_error TEXT;
