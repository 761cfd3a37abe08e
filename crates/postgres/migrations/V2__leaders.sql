-- Leadership terms: the process whose row is unexpired runs the maintenance the row names
-- (the rescuer), so that it runs in one process at a time and moves on when that one dies.
CREATE TABLE tasker_leaders (
    name text PRIMARY KEY,
    owner text NOT NULL,
    expires_at timestamptz NOT NULL
);
