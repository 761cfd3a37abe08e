-- One task of `seed_completed_tasks`: created at ?3, it ran to completion at ?4.
INSERT INTO tasks (template_id, state, context, identity_hash, idempotency_key, steps_total,
                   steps_remaining, steps_failed, transition_seq, created_at, updated_at,
                   completed_at)
VALUES (?1, 'complete', '{}', NULL, NULL, ?2, 0, 0, 3, ?3, ?4, ?4)
