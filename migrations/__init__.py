"""Numbered SQL migrations (``NNNN_name.sql``), applied in order by ``bot.storage.migrate``.

A file is never edited once it has landed on main: change the schema with a new file.
"""
