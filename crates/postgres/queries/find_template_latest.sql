-- The highest semantic version: a release sorts above its pre-releases.
SELECT tt.id, n.name AS namespace, tt.name, tt.version, tt.description, tt.definition,
       tt.created_at
FROM task_templates tt
JOIN namespaces n ON n.id = tt.namespace_id
WHERE n.name = $1 AND tt.name = $2
ORDER BY tt.version_major DESC, tt.version_minor DESC, tt.version_patch DESC,
         tt.version_pre IS NULL DESC, tt.version_pre DESC
LIMIT 1
