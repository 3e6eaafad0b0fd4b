"""``python -m bot.core.export_worker FD``: the CSV export in a process of its own.

The bot starts one per export (:func:`bot.core.reports.export_csv_file`), so the event
loop never waits for the GIL behind seconds of CSV writing. The job comes pickled on
standard input, from the bot itself: where the database is (the SQLite file or the
PostgreSQL URL, which may hold a password: hence stdin, not the command line), the
header, the cohort, the names and whether texts are included. The CSV goes to the file
descriptor ``FD``, a temporary file the bot opened and handed down, which it uploads once
this exits 0.
"""

from __future__ import annotations

import os
import pickle
import sys

from bot.core.reports import stream_export


def main(argv: list[str] | None = None) -> int:
    (fd,) = sys.argv[1:] if argv is None else argv
    source, header, cohort, names, include_text = pickle.load(sys.stdin.buffer)
    with os.fdopen(int(fd), "wb") as out:
        stream_export(tuple(source), out, header, cohort, names, include_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
