WITH inserted AS (
    INSERT INTO namespaces (name, created_at) VALUES ($1, $2)
    ON CONFLICT (name) DO NOTHING
    RETURNING id
)
SELECT id FROM inserted
UNION ALL
SELECT id FROM namespaces WHERE name = $1
LIMIT 1
