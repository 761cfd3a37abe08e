-- Routes: a step carries its handler and queue ('' = in-process), and the processes that run
-- steps say which routes they serve. Same content as the PostgreSQL migration V6__routes.sql
-- (see its comments); times in microseconds.

ALTER TABLE workflow_steps ADD COLUMN handler TEXT NOT NULL DEFAULT '';
ALTER TABLE workflow_steps ADD COLUMN queue TEXT NOT NULL DEFAULT '';

DROP INDEX workflow_steps_ready;

-- Steps that may still run take their route from their template's definition; finished steps
-- keep ''. One set-based update.
UPDATE workflow_steps
SET handler = coalesce(json_extract(d.value, '$.handler'), ''),
    queue = coalesce(json_extract(d.value, '$.queue'), '')
FROM tasks t
JOIN task_templates tt ON tt.id = t.template_id
JOIN json_each(tt.definition, '$.steps') d
WHERE t.id = workflow_steps.task_id
  AND json_extract(d.value, '$.name') = workflow_steps.name
  AND workflow_steps.state NOT IN ('complete', 'resolved_manually', 'cancelled');

CREATE INDEX workflow_steps_ready ON workflow_steps (queue, handler, ready_at, id)
    WHERE ready_at IS NOT NULL;

CREATE TABLE worker_handlers (
    worker TEXT NOT NULL,
    queue TEXT NOT NULL,
    handler TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (queue, handler, worker)
) WITHOUT ROWID;
CREATE INDEX worker_handlers_seen_at ON worker_handlers (seen_at);
