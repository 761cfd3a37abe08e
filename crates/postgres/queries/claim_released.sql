-- The hand-off of a completion: claim up to $2 of the children of the steps it finished ($5)
-- that are runnable now and that its filter admits (queue $6, handler one of $7, null: any),
-- for owner $3 under a lease until $4 (claim_picked.sql follows this choice of rows). Runs
-- after release_children.sql in the same transaction, so it sees the children that release
-- made runnable, and no other claimer can have taken them yet; a child made runnable earlier
-- by another transaction may be locked by a claimer, and is skipped. Children the filter does
-- not admit stay runnable for a claimer that has their route.
-- Each child is read (and locked) by its key inside a LATERAL subquery, which the lock keeps
-- the planner from flattening: given the whole query, it may walk the runnable steps in
-- order (the newest, these children, come last) looking for the children, which took
-- seconds with 50,000 runnable steps. The children are taken in id order (the order their
-- task created them; those this release made runnable share one ready time), from the
-- ordered list of ids, so that the probes stop at the limit: a root that releases 10,000
-- children hands off the first few without reading (and locking) all of them, which took
-- 50-70 ms.
WITH picked AS (
    SELECT s.id, s.from_state, s.ready_at
    FROM (
        SELECT DISTINCT k.to_step_id AS id
        FROM unnest($5::bigint[]) AS d(id)
        CROSS JOIN LATERAL (
            SELECT e.to_step_id FROM workflow_step_edges e WHERE e.from_step_id = d.id OFFSET 0
        ) k
        ORDER BY 1
    ) c
    CROSS JOIN LATERAL (
        SELECT s.id, s.state AS from_state, s.ready_at
        FROM workflow_steps s
        WHERE s.id = c.id AND s.ready_at <= $1
          AND s.queue = $6 AND ($7::text[] IS NULL OR s.handler = ANY ($7::text[]))
        FOR NO KEY UPDATE SKIP LOCKED
    ) s
    ORDER BY c.id
    LIMIT $2
),
