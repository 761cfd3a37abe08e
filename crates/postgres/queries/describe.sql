-- What a benchmark report prints about the server. autovacuum matters: the hot tables churn,
-- and with it off only in-page pruning and index entry deletion clean up after them.
SELECT current_setting('server_version') AS server_version,
       current_setting('synchronous_commit') AS synchronous_commit,
       current_setting('shared_buffers') AS shared_buffers,
       current_setting('max_connections') AS max_connections,
       current_setting('autovacuum') AS autovacuum,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('lock_timeout') AS lock_timeout
