"""Where the machine's CPU time went during a measured window, from /proc (Linux).

Benchmarks with several processes compete for 2 cores: the bot processes (and the
identifier checkers they start), the PostgreSQL server (its postmaster and backends),
and whatever else runs on the machine. :func:`snapshot` reads each live process's CPU
time (``utime + stime``) and the machine's busy time; :func:`split` of two snapshots says how many
CPU-seconds each group used between them. A process that started and ended between the
two readings is missed (counted in "other" through the machine's total).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Snapshot:
    processes: dict[int, tuple[int, int, float]]  # pid -> (parent, uid, CPU seconds)
    busy: float  # the whole machine's busy CPU-seconds since boot


def snapshot() -> Snapshot:
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            uid = entry.stat().st_uid
        except OSError:
            continue  # it ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        processes[int(entry.name)] = (int(fields[1]), uid, seconds)
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    # user, nice, system, irq, softirq, steal: all but idle and iowait
    busy = sum(int(v) for i, v in enumerate(cpu[:8]) if i not in (3, 4)) / _TICK
    return Snapshot(processes, busy)


def _descendants(processes: dict[int, tuple[int, int, float]], roots: set[int]) -> set[int]:
    found, changed = set(roots), True
    while changed:
        changed = False
        for pid, (parent, _, _) in processes.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return found


def split(before: Snapshot, after: Snapshot, bots: set[int], server: int | None) -> dict:
    """CPU-seconds between two snapshots: ``bot`` (the ``bots`` processes and their
    children), ``postgresql`` (the server whose postmaster is ``server``, with its
    backends), ``other`` (the rest of the machine's busy time: other people's work here),
    and ``total``."""
    mine = _descendants(after.processes, bots)
    database = _descendants(after.processes, {server}) if server is not None else set()

    def used(pid: int) -> float:
        start = before.processes.get(pid, (0, 0, 0.0))[2]
        return after.processes[pid][2] - start

    bot = sum(used(pid) for pid in mine)
    db = sum(used(pid) for pid in database - mine)
    total = after.busy - before.busy
    return {"bot": bot, "postgresql": db, "other": max(0.0, total - bot - db), "total": total}


def postmaster(url: str | None) -> int | None:
    """The process id of the PostgreSQL server at ``url`` when it is one of
    ``tests/pg_server.py``'s (its socket directory holds ``data/postmaster.pid``)."""
    if url is None:
        return None
    from urllib.parse import parse_qs, urlsplit

    host = parse_qs(urlsplit(url).query).get("host", [""])[0]
    try:
        return int((Path(host) / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
