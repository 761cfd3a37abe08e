INSERT INTO tasks
    (template_id, state, context, identity_hash, idempotency_key, steps_total, steps_remaining,
     steps_failed, transition_seq, created_at, updated_at, traceparent)
VALUES (?1, 'pending', ?2, ?3, ?4, ?5, ?5, 0, 1, ?6, ?6, ?7)
