INSERT INTO namespaces (name, created_at) VALUES (?1, ?2)
ON CONFLICT (name) DO NOTHING
