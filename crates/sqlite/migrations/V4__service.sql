-- The service layer (`tasker serve`): API tokens, the trace context a task was created with,
-- and what task lists by template and the analytics over finished tasks read. Same content as
-- the PostgreSQL migration V5__service.sql (see its comments); times in microseconds.

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

ALTER TABLE tasks ADD COLUMN traceparent TEXT;

ALTER TABLE workflow_steps ADD COLUMN last_ready_at INTEGER;

CREATE INDEX tasks_template_id ON tasks (template_id, id);

-- SQLite has no INCLUDE: the columns the analytics return trail the key, so that they read
-- this index alone (a covering index).
CREATE INDEX tasks_completed_at
    ON tasks (completed_at, id, template_id, state, created_at, steps_total)
    WHERE completed_at IS NOT NULL;
CREATE INDEX tasks_template_completed_at ON tasks (template_id, completed_at, id)
    WHERE completed_at IS NOT NULL;

UPDATE tasks SET completed_at = updated_at
WHERE completed_at IS NULL AND state IN ('error', 'cancelled');
