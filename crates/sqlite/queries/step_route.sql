-- A step's queue ('' = in-process) and handler: whether a hand-off's filter admits it.
SELECT queue, handler FROM workflow_steps WHERE id = ?1
