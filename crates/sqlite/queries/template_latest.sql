-- A release outranks its pre-releases (semver), hence NULLS FIRST on the descending pre part.
SELECT t.id, n.name, t.name, t.version, t.description, t.definition, t.created_at
FROM task_templates t
JOIN namespaces n ON n.id = t.namespace_id
WHERE n.name = ?1 AND t.name = ?2
ORDER BY t.version_major DESC, t.version_minor DESC, t.version_patch DESC,
         t.version_pre DESC NULLS FIRST
LIMIT 1
