SELECT t.id, n.name, t.name, t.version, t.description, t.definition, t.created_at
FROM task_templates t
JOIN namespaces n ON n.id = t.namespace_id
WHERE n.name = ?1 AND t.name = ?2 AND t.version = ?3
