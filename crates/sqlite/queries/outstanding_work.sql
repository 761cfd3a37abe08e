SELECT EXISTS (SELECT 1 FROM workflow_steps WHERE ready_at IS NOT NULL),
       EXISTS (SELECT 1 FROM workflow_steps WHERE state = 'in_progress')
