-- Retention of action reports (src/Host.CSharp/Retention): a project's old reports, oldest first, without
-- scanning the reports that are still young.
CREATE INDEX action_report_received ON action_report (project_id, received_at);
