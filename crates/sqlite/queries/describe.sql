SELECT sqlite_version(),
       (SELECT journal_mode FROM pragma_journal_mode),
       (SELECT synchronous FROM pragma_synchronous),
       (SELECT timeout FROM pragma_busy_timeout),
       (SELECT foreign_keys FROM pragma_foreign_keys)
