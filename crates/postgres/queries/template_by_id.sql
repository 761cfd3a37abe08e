SELECT tt.id, n.name AS namespace, tt.name, tt.version, tt.description, tt.definition,
       tt.created_at
FROM task_templates tt
JOIN namespaces n ON n.id = tt.namespace_id
WHERE tt.id = $1
