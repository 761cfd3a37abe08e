SELECT EXISTS (SELECT 1 FROM task_templates WHERE id = ?1)
