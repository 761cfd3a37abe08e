-- Routes: a step carries its handler and queue, so that a claim chooses the steps it can run
-- without reading templates, and the processes that run steps say which routes they serve.
-- The SQLite migration V5__routes.sql has the same content in its dialect.

-- '' is the in-process "queue" (a queue name is never empty), so that the ready index can
-- hold it as an equality. Constant defaults: adding the columns does not rewrite the table.
ALTER TABLE workflow_steps
    ADD COLUMN handler text NOT NULL DEFAULT '',
    ADD COLUMN queue text NOT NULL DEFAULT '';

-- The ready index leads with the route: a claim reads, per handler it has, that handler's
-- runnable steps oldest first, whatever the backlog of the others. Dropped before the backfill
-- so that the update maintains one index fewer, and built once afterwards. Same name and the
-- same partial predicate: the table's fillfactor and vacuum settings keep serving it.
DROP INDEX workflow_steps_ready;

-- Steps that may still run take their route from their template; finished steps keep ''
-- (nothing claims them again, and history needs no rewrite). One set-based update.
UPDATE workflow_steps s
SET handler = coalesce(d.handler, ''),
    queue = coalesce(d.queue, '')
FROM tasks t
JOIN task_templates tt ON tt.id = t.template_id
CROSS JOIN LATERAL jsonb_to_recordset(
    CASE WHEN jsonb_typeof(tt.definition -> 'steps') = 'array'
         THEN tt.definition -> 'steps' ELSE '[]'::jsonb END
) AS d(name text, handler text, queue text)
WHERE t.id = s.task_id
  AND d.name = s.name
  AND s.state NOT IN ('complete', 'resolved_manually', 'cancelled');

CREATE INDEX workflow_steps_ready ON workflow_steps (queue, handler, ready_at, id)
    WHERE ready_at IS NOT NULL;

-- Who runs what: one row per (worker, queue, handler), '*' standing for every handler of the
-- queue; `seen_at` is the last advertisement. Keyed by route first: "does anyone serve this
-- route?" is a probe of the key.
CREATE TABLE worker_handlers (
    worker text NOT NULL,
    queue text NOT NULL,
    handler text NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (queue, handler, worker)
);
-- Forgetting workers that stopped advertising: a range of this index.
CREATE INDEX worker_handlers_seen_at ON worker_handlers (seen_at);
