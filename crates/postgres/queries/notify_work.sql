-- $1 channel, $2 payload (the schema): a wake-up hint, delivered when the transaction commits.
SELECT pg_notify($1, $2)
