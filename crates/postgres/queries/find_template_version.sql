SELECT tt.id, n.name AS namespace, tt.name, tt.version, tt.description, tt.definition,
       tt.created_at
FROM task_templates tt
JOIN namespaces n ON n.id = tt.namespace_id
WHERE n.name = $1 AND tt.name = $2 AND tt.version = $3
