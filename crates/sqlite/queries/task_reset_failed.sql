UPDATE tasks SET steps_failed = 0, updated_at = ?2 WHERE id = ?1
