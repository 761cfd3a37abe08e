SELECT t.id, n.name, t.name, t.version, t.description, t.definition, t.created_at
FROM task_templates t
JOIN namespaces n ON n.id = t.namespace_id
ORDER BY n.name, t.name, t.version_major, t.version_minor, t.version_patch,
         t.version_pre NULLS LAST
