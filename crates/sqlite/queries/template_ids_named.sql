-- The templates in namespace ?1 named ?2, every version (a null parameter matches all).
SELECT tt.id
FROM task_templates tt
JOIN namespaces n ON n.id = tt.namespace_id
WHERE (?1 IS NULL OR n.name = ?1) AND (?2 IS NULL OR tt.name = ?2)
ORDER BY tt.id
