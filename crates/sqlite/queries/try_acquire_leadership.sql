-- ?1 name, ?2 owner, ?3 now, ?4 expires_at (microseconds). One row changed: ?2 leads until ?4.
INSERT INTO tasker_leaders (name, owner, expires_at)
VALUES (?1, ?2, ?4)
ON CONFLICT (name) DO UPDATE
    SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE tasker_leaders.owner = excluded.owner OR tasker_leaders.expires_at <= ?3
