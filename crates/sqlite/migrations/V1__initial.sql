-- Times are INTEGER microseconds since the Unix epoch (UTC); JSON is TEXT; booleans are 0/1.
-- Names match the PostgreSQL schema.

CREATE TABLE namespaces (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE task_templates (
    id INTEGER PRIMARY KEY,
    namespace_id INTEGER NOT NULL REFERENCES namespaces (id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    version_major INTEGER NOT NULL,
    version_minor INTEGER NOT NULL,
    version_patch INTEGER NOT NULL,
    version_pre TEXT,
    description TEXT,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX task_templates_namespace_name_version
    ON task_templates (namespace_id, name, version);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    template_id INTEGER NOT NULL REFERENCES task_templates (id),
    state TEXT NOT NULL,
    context TEXT NOT NULL,
    identity_hash TEXT,
    idempotency_key TEXT,
    steps_total INTEGER NOT NULL,
    steps_remaining INTEGER NOT NULL,
    steps_failed INTEGER NOT NULL DEFAULT 0,
    transition_seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE UNIQUE INDEX tasks_identity_hash ON tasks (identity_hash) WHERE identity_hash IS NOT NULL;
CREATE INDEX tasks_state_id ON tasks (state, id);

CREATE TABLE workflow_steps (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    retry_limit INTEGER NOT NULL,
    retryable INTEGER NOT NULL,
    total_parents INTEGER NOT NULL,
    unsatisfied_parents INTEGER NOT NULL,
    ready_at INTEGER,
    last_attempted_at INTEGER,
    last_failure_at INTEGER,
    backoff_request_seconds INTEGER,
    inputs TEXT,
    results TEXT,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    transition_seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX workflow_steps_task_position ON workflow_steps (task_id, position);
CREATE INDEX workflow_steps_ready ON workflow_steps (ready_at, id) WHERE ready_at IS NOT NULL;
CREATE INDEX workflow_steps_lease_expires
    ON workflow_steps (lease_expires_at) WHERE state = 'in_progress';
CREATE INDEX workflow_steps_lease_owner
    ON workflow_steps (lease_owner) WHERE state = 'in_progress';

CREATE TABLE workflow_step_edges (
    from_step_id INTEGER NOT NULL REFERENCES workflow_steps (id),
    to_step_id INTEGER NOT NULL REFERENCES workflow_steps (id),
    PRIMARY KEY (from_step_id, to_step_id)
) WITHOUT ROWID;
CREATE INDEX workflow_step_edges_to ON workflow_step_edges (to_step_id);

CREATE TABLE task_transitions (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    metadata TEXT NOT NULL,
    sort_key INTEGER NOT NULL,
    most_recent INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX task_transitions_most_recent
    ON task_transitions (task_id) WHERE most_recent = 1;
CREATE UNIQUE INDEX task_transitions_sort_key ON task_transitions (task_id, sort_key);

CREATE TABLE workflow_step_transitions (
    id INTEGER PRIMARY KEY,
    workflow_step_id INTEGER NOT NULL REFERENCES workflow_steps (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    metadata TEXT NOT NULL,
    sort_key INTEGER NOT NULL,
    most_recent INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX workflow_step_transitions_most_recent
    ON workflow_step_transitions (workflow_step_id) WHERE most_recent = 1;
CREATE UNIQUE INDEX workflow_step_transitions_sort_key
    ON workflow_step_transitions (workflow_step_id, sort_key);
