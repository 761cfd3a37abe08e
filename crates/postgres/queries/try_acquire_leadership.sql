-- $1 name, $2 owner, $3 now, $4 expires_at. One row affected: $2 leads until $4.
INSERT INTO tasker_leaders AS leader (name, owner, expires_at)
VALUES ($1, $2, $4)
ON CONFLICT (name) DO UPDATE
    SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE leader.owner = excluded.owner OR leader.expires_at <= $3
