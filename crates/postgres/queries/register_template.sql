INSERT INTO task_templates (namespace_id, name, version, version_major, version_minor,
                            version_patch, version_pre, description, definition, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (namespace_id, name, version) DO NOTHING
RETURNING id
