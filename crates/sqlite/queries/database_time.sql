-- The system time as SQLite reads it, in microseconds since the Unix epoch (the only clock a
-- backend reads; see Store::database_time). 'now' has millisecond precision.
SELECT CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000
