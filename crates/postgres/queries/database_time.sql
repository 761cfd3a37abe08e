-- The server's clock (the only clock a backend reads; see Store::database_time).
SELECT clock_timestamp() AS now
