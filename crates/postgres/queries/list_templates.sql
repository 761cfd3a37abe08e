SELECT tt.id, n.name AS namespace, tt.name, tt.version, tt.description, tt.definition,
       tt.created_at
FROM task_templates tt
JOIN namespaces n ON n.id = tt.namespace_id
ORDER BY n.name, tt.name, tt.version_major, tt.version_minor, tt.version_patch,
         tt.version_pre IS NULL, tt.version_pre
