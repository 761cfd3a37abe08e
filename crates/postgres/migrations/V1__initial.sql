-- The initial schema of the PostgreSQL backend. Table and column names match the SQLite backend
-- (see ARCHITECTURE.md "Tables"); each index serves one of the hot queries listed there.

CREATE TABLE namespaces (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE task_templates (
    id bigserial PRIMARY KEY,
    namespace_id bigint NOT NULL REFERENCES namespaces (id),
    name text NOT NULL,
    version text NOT NULL,
    version_major bigint NOT NULL,
    version_minor bigint NOT NULL,
    version_patch bigint NOT NULL,
    version_pre text,
    description text,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX task_templates_namespace_name_version
    ON task_templates (namespace_id, name, version);

CREATE TABLE tasks (
    id bigserial PRIMARY KEY,
    template_id bigint NOT NULL REFERENCES task_templates (id),
    state text NOT NULL CHECK (state IN
        ('pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually')),
    context jsonb NOT NULL,
    identity_hash text,
    idempotency_key text,
    steps_total integer NOT NULL CHECK (steps_total >= 0),
    steps_remaining integer NOT NULL CHECK (steps_remaining >= 0),
    steps_failed integer NOT NULL CHECK (steps_failed >= 0),
    transition_seq integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    completed_at timestamptz
);
CREATE UNIQUE INDEX tasks_identity_hash ON tasks (identity_hash) WHERE identity_hash IS NOT NULL;
CREATE INDEX tasks_state_id ON tasks (state, id);

-- Steps, edges and the history tables carry no foreign keys. Their rows are written only by
-- this backend's batch statements, in the transaction that writes the rows they refer to, and
-- a per-row key check (with its key-share lock) measured ~40% of task creation time.
CREATE TABLE workflow_steps (
    id bigserial PRIMARY KEY,
    task_id bigint NOT NULL,
    position integer NOT NULL,
    name text NOT NULL,
    state text NOT NULL CHECK (state IN
        ('pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually')),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    retry_limit integer NOT NULL,
    retryable boolean NOT NULL,
    total_parents integer NOT NULL,
    unsatisfied_parents integer NOT NULL CHECK (unsatisfied_parents >= 0),
    ready_at timestamptz,
    last_attempted_at timestamptz,
    last_failure_at timestamptz,
    backoff_request_seconds bigint,
    inputs jsonb,
    results jsonb,
    lease_owner text,
    lease_expires_at timestamptz,
    transition_seq integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX workflow_steps_task_position ON workflow_steps (task_id, position);
CREATE INDEX workflow_steps_ready ON workflow_steps (ready_at, id) WHERE ready_at IS NOT NULL;
CREATE INDEX workflow_steps_lease_expiry ON workflow_steps (lease_expires_at)
    WHERE state = 'in_progress';
CREATE INDEX workflow_steps_lease_owner ON workflow_steps (lease_owner)
    WHERE state = 'in_progress';
-- Every claim and completion rewrites step rows and churns the partial ready index; without
-- frequent vacuuming dead index entries pile up and claims slow down (docs: FACTS.md).
-- Free space on each page lets updates that touch no indexed column (counters, results) stay
-- on the page as HOT updates, without new index entries.
ALTER TABLE workflow_steps SET (
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_cost_limit = 2000,
    autovacuum_analyze_scale_factor = 0.05
);
ALTER TABLE tasks SET (
    fillfactor = 70,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_cost_limit = 2000
);

CREATE TABLE workflow_step_edges (
    from_step_id bigint NOT NULL,
    to_step_id bigint NOT NULL,
    PRIMARY KEY (from_step_id, to_step_id)
);
CREATE INDEX workflow_step_edges_to ON workflow_step_edges (to_step_id);

CREATE TABLE task_transitions (
    id bigserial PRIMARY KEY,
    task_id bigint NOT NULL,
    from_state text CHECK (from_state IN
        ('pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually')),
    to_state text NOT NULL CHECK (to_state IN
        ('pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually')),
    metadata jsonb NOT NULL,
    sort_key integer NOT NULL,
    most_recent boolean NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX task_transitions_current ON task_transitions (task_id) WHERE most_recent;
CREATE UNIQUE INDEX task_transitions_history ON task_transitions (task_id, sort_key);

CREATE TABLE workflow_step_transitions (
    id bigserial PRIMARY KEY,
    workflow_step_id bigint NOT NULL,
    from_state text CHECK (from_state IN
        ('pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually')),
    to_state text NOT NULL CHECK (to_state IN
        ('pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually')),
    metadata jsonb NOT NULL,
    sort_key integer NOT NULL,
    most_recent boolean NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX workflow_step_transitions_current
    ON workflow_step_transitions (workflow_step_id) WHERE most_recent;
CREATE UNIQUE INDEX workflow_step_transitions_history
    ON workflow_step_transitions (workflow_step_id, sort_key);

-- Readiness from first principles: states and edges, never the stored counters or ready_at
-- (except as the retry time of a failed step). Must agree with tasker_model::readiness.
CREATE FUNCTION tasker_step_readiness(task_ids bigint[], now timestamptz)
RETURNS TABLE (
    task_id bigint,
    step_id bigint,
    name text,
    current_state text,
    dependencies_satisfied boolean,
    retry_eligible boolean,
    ready_for_execution boolean,
    last_failure_at timestamptz,
    next_retry_at timestamptz,
    total_parents integer,
    completed_parents integer,
    attempts integer,
    max_attempts integer,
    backoff_request_seconds bigint,
    last_attempted_at timestamptz
)
LANGUAGE sql STABLE AS $$
    WITH steps AS (
        SELECT s.id, s.task_id, s.position, s.name, s.state, s.attempts, s.max_attempts,
               s.ready_at, s.last_failure_at, s.backoff_request_seconds, s.last_attempted_at,
               (s.state = 'pending' OR s.attempts = 0
                OR (s.retryable AND s.attempts < s.max_attempts)) AS eligible
        FROM workflow_steps s
        WHERE s.task_id = ANY (task_ids)
    ),
    -- Parents are looked up step by step (LATERAL, fenced with OFFSET 0) so that the plan stays
    -- a handful of index probes even on tables without statistics yet.
    parents AS (
        SELECT c.id,
               count(*)::integer AS total,
               (count(*) FILTER (WHERE p.state IN ('complete', 'resolved_manually')))::integer
                   AS done
        FROM steps c
        CROSS JOIN LATERAL (
            SELECT e.from_step_id FROM workflow_step_edges e WHERE e.to_step_id = c.id OFFSET 0
        ) e
        CROSS JOIN LATERAL (
            SELECT p.state FROM workflow_steps p WHERE p.id = e.from_step_id OFFSET 0
        ) p
        GROUP BY c.id
    ),
    accepting AS (
        SELECT t.id,
               t.state IN ('pending', 'in_progress')
               AND NOT EXISTS (
                   SELECT 1 FROM steps b
                   WHERE b.task_id = t.id AND b.state = 'error' AND NOT b.eligible
               ) AS accepts_work
        FROM tasks t
        WHERE t.id = ANY (task_ids)
    ),
    computed AS (
        SELECT s.*,
               coalesce(p.total, 0) AS total,
               coalesce(p.done, 0) AS done,
               coalesce(p.done, 0) = coalesce(p.total, 0) AS deps_ok,
               CASE WHEN s.state = 'error' AND s.eligible THEN s.ready_at END AS retry_at,
               a.accepts_work
        FROM steps s
        JOIN accepting a ON a.id = s.task_id
        LEFT JOIN parents p ON p.id = s.id
    )
    SELECT c.task_id, c.id, c.name, c.state, c.deps_ok, c.eligible,
           c.state IN ('pending', 'error')
           AND c.deps_ok
           AND c.eligible
           AND (c.state <> 'error' OR coalesce(c.retry_at <= now, false))
           AND c.accepts_work,
           c.last_failure_at, c.retry_at, c.total, c.done, c.attempts, c.max_attempts,
           c.backoff_request_seconds, c.last_attempted_at
    FROM computed c
    ORDER BY c.task_id, c.position
$$;

CREATE FUNCTION tasker_task_execution_context(task_ids bigint[], now timestamptz)
RETURNS TABLE (
    task_id bigint,
    total_steps bigint,
    pending_steps bigint,
    in_progress_steps bigint,
    completed_steps bigint,
    failed_steps bigint,
    ready_steps bigint,
    permanently_blocked_steps bigint,
    execution_status text,
    recommended_action text,
    completion_percentage double precision,
    health_status text
)
LANGUAGE sql STABLE AS $$
    WITH counts AS (
        SELECT t.id,
               count(r.step_id) AS total,
               count(*) FILTER (WHERE r.current_state = 'pending') AS pending,
               count(*) FILTER (WHERE r.current_state = 'in_progress') AS running,
               count(*) FILTER (WHERE r.current_state IN ('complete', 'resolved_manually'))
                   AS completed,
               count(*) FILTER (WHERE r.current_state = 'error') AS failed,
               count(*) FILTER (WHERE r.ready_for_execution) AS ready,
               count(*) FILTER (WHERE r.current_state = 'error' AND NOT r.retry_eligible)
                   AS blocked
        FROM tasks t
        LEFT JOIN tasker_step_readiness(task_ids, now) r ON r.task_id = t.id
        WHERE t.id = ANY (task_ids)
        GROUP BY t.id
    ),
    status AS (
        SELECT c.*,
               CASE
                   WHEN c.blocked > 0 THEN 'blocked_by_failures'
                   WHEN c.ready > 0 THEN 'has_ready_steps'
                   WHEN c.running > 0 THEN 'processing'
                   WHEN c.total > 0 AND c.completed = c.total THEN 'all_complete'
                   ELSE 'waiting_for_dependencies'
               END AS execution_status
        FROM counts c
    )
    SELECT s.id, s.total, s.pending, s.running, s.completed, s.failed, s.ready, s.blocked,
           s.execution_status,
           CASE s.execution_status
               WHEN 'blocked_by_failures' THEN 'handle_failures'
               WHEN 'has_ready_steps' THEN 'execute_ready_steps'
               WHEN 'processing' THEN 'wait_for_completion'
               WHEN 'all_complete' THEN 'finalize_task'
               ELSE 'wait_for_dependencies'
           END,
           CASE WHEN s.total = 0 THEN 0::double precision
                ELSE round(s.completed * 100.0 / s.total, 2)::double precision
           END,
           CASE WHEN s.blocked > 0 THEN 'blocked'
                WHEN s.failed > 0 THEN 'recovering'
                ELSE 'healthy'
           END
    FROM status s
    ORDER BY s.id
$$;
