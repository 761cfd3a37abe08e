SELECT state, steps_remaining, steps_failed FROM tasks WHERE id = $1 FOR NO KEY UPDATE
