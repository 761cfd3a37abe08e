SELECT EXISTS (SELECT 1 FROM workflow_steps WHERE ready_at IS NOT NULL) AS scheduled,
       EXISTS (SELECT 1 FROM workflow_steps WHERE state = 'in_progress') AS running
