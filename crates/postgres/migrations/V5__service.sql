-- The service layer (`tasker serve`): API tokens, the trace context a task was created with,
-- and what task lists by template and the analytics over finished tasks read. The SQLite
-- migration V4__service.sql has the same content in its dialect.

-- API tokens. Only the SHA-256 of a token is kept (hex); a request's token is found by it.
CREATE TABLE api_tokens (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    scopes jsonb NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- The W3C `traceparent` of the request that created the task (null for most tasks): the
-- spans of its steps continue that trace. Read by claims in the row they already join.
ALTER TABLE tasks ADD COLUMN traceparent text;

-- The `ready_at` of a step when its current attempt was claimed: the wait from runnable to
-- started is `last_attempted_at - last_ready_at`. Written by the claim's own update, no index.
ALTER TABLE workflow_steps ADD COLUMN last_ready_at timestamptz;

-- Task lists by template (or by namespace, resolved to its templates), newest first, paged
-- by id: one backward walk per template id. Also serves the template foreign key.
CREATE INDEX tasks_template_id ON tasks (template_id, id);

-- `completed_at` is the time a task reached complete, error or cancelled (cleared when an
-- error is retried or resolved back into progress). Finished tasks by that time, newest first
-- with the id as tie-break: counts per bucket and the newest finished tasks read this index
-- alone (it includes every column they return; none of them changes once a task finished, so
-- updates of unfinished tasks stay as cheap as before). Unfinished tasks have no entry.
CREATE INDEX tasks_completed_at ON tasks (completed_at, id)
    INCLUDE (template_id, state, created_at, steps_total)
    WHERE completed_at IS NOT NULL;
-- The same for the templates of one name: one walk per template id.
CREATE INDEX tasks_template_completed_at ON tasks (template_id, completed_at, id)
    WHERE completed_at IS NOT NULL;

-- Tasks that ended in error or were cancelled before this migration had no `completed_at`:
-- their last update is the closest record of when that happened.
UPDATE tasks SET completed_at = updated_at
WHERE completed_at IS NULL AND state IN ('error', 'cancelled');
