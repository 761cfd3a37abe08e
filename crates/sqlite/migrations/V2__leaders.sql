-- Leadership terms (see the PostgreSQL migration of the same name); expires_at in
-- microseconds since the Unix epoch.
CREATE TABLE tasker_leaders (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
