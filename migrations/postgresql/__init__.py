"""PostgreSQL spellings of ``migrations/NNNN_*.sql``: same numbers and names, same schema.

Discord snowflakes and every id are BIGINT; flags and counts INTEGER (0/1 as on SQLite);
times TEXT (UTC ISO-8601, compared as strings on both backends).
"""
