"""What the database refused, kept in a small file beside it until it has been redone.

While SQLite refuses writes (see *Storage outages* in ARCHITECTURE.md), a member's edit
or deletion, or a thread message that could not be stored, waits to be redone. Held
only in memory, a crash would lose it: the deletion would never reach the stored text.
It can't wait in the database, which is what is refusing, so it goes to
``<database>.pending.jsonl``: one JSON object per line, flushed and fsynced before the
bot moves on.

The file holds ids and the kind of change, never message text: an edit is redone by
reading the message again from Discord, which also gives its latest version. Redoing
is idempotent (a deletion already applied changes nothing, an edit rereads the same
text), so a file that could not be trimmed after a replay only costs a second replay.
If the file itself can't be written (the disk is full too), the caller keeps the entry
in memory, as before, and this logs one warning (with no contents).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

EDIT, DELETE, READ_BACK = "edit", "delete", "read_back"
KINDS = (EDIT, DELETE, READ_BACK)


@dataclass(frozen=True, slots=True)
class Pending:
    """``edit``/``delete`` of a thread message, or ``read_back`` a thread from a message."""

    kind: str
    channel_id: int
    message_id: int


class PendingFile:
    """Append-only while entries arrive; rewritten whole (atomically) once some are done."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: an in-memory database, so nothing outlives the process

    @classmethod
    def beside(
        cls, database_path: Path, platform: str | None = None, process: str | None = None
    ) -> PendingFile:
        """``<database>.pending.jsonl`` (Discord's), or ``<database>.<platform>.pending.jsonl``:
        one file per platform, since each rewrites its file with only its own entries; and
        for the same reason one per process when there are several (``process``, e.g.
        ``<database>.shards-0-1.pending.jsonl``: the same name again when it restarts)."""
        if str(database_path) == ":memory:":
            return cls(None)
        infix = "".join(f".{part}" for part in (process, platform) if part)
        return cls(database_path.with_name(f"{database_path.name}{infix}.pending.jsonl"))

    def load(self) -> list[Pending]:
        """What an earlier run left to redo; a line torn by a crash mid-write is skipped."""
        if self.path is None or not self.path.is_file():
            return []
        entries = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                fields = json.loads(line)
                entry = Pending(
                    str(fields["kind"]), int(fields["channel_id"]), int(fields["message_id"])
                )
            except (ValueError, KeyError, TypeError):
                continue
            if entry.kind in KINDS:
                entries.append(entry)
        return entries

    def append(self, entry: Pending) -> bool:
        """Add one entry durably; False if the file can't be written (kept in memory only)."""
        if self.path is None:
            return False
        try:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(json.dumps(asdict(entry)) + "\n")
                file.flush()
                os.fsync(file.fileno())
        except OSError as error:
            log.warning("Could not note a refused change in %s (%s); it is kept in memory "
                        "only until the database takes writes again", self.path.name,
                        error.strerror or type(error).__name__)  # fmt: skip
            return False
        return True

    def replace(self, entries: list[Pending]) -> bool:
        """Keep exactly ``entries`` (none: remove the file); atomic, so a crash leaves the
        old file or the new one."""
        if self.path is None:
            return False
        try:
            if not entries:
                self.path.unlink(missing_ok=True)
                return True
            fresh = self.path.with_name(self.path.name + ".new")
            with fresh.open("w", encoding="utf-8") as file:
                file.writelines(json.dumps(asdict(entry)) + "\n" for entry in entries)
                file.flush()
                os.fsync(file.fileno())
            os.replace(fresh, self.path)
        except OSError as error:
            log.warning("Could not trim %s (%s); its entries will be redone again, which "
                        "changes nothing", self.path.name,
                        error.strerror or type(error).__name__)  # fmt: skip
            return False
        return True


class Backlog:
    """What waits to be redone: edits and deletions in the order they came, and per thread
    the oldest message to read back from. Each entry is noted in the :class:`PendingFile`
    as it arrives, so a crash loses none; :meth:`trim` keeps the file to what still waits."""

    def __init__(self, file: PendingFile) -> None:
        self.file = file
        self.changes: list[Pending] = []  # edits and deletions the database refused
        self.threads: dict[int, int] = {}  # thread -> oldest message not stored yet
        self._noted: list[Pending] = []  # what the file holds now

    def resume(self) -> int:
        """Take up what an earlier run noted and could not redo; how many entries."""
        self._noted = self.file.load()
        for entry in self._noted:
            if entry.kind == READ_BACK:
                old = self.threads.get(entry.channel_id, entry.message_id)
                self.threads[entry.channel_id] = min(old, entry.message_id)
            else:
                self.changes.append(entry)
        return len(self._noted)

    def change(self, entry: Pending) -> None:
        self.changes.append(entry)
        self._note(entry)

    def read_back(self, thread_id: int, message_id: int) -> None:
        """Remember the oldest message of a thread that still has to be read back."""
        if message_id < self.threads.get(thread_id, message_id + 1):
            self.threads[thread_id] = message_id
            self._note(Pending(READ_BACK, thread_id, message_id))

    def _note(self, entry: Pending) -> None:
        if self.file.append(entry):
            self._noted.append(entry)

    def trim(self) -> None:
        """After a replay or read-back, keep on disk only what is still waiting."""
        waiting = list(self.changes) + [
            Pending(READ_BACK, thread_id, message_id)
            for thread_id, message_id in self.threads.items()
        ]
        if waiting != self._noted and self.file.replace(waiting):
            self._noted = waiting
