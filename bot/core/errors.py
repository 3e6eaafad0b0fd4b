"""Errors the core raises on purpose.

A :class:`PraxisError` carries a sentence written for the person who caused it; the
command tree's error handler shows it to them privately and logs nothing of it. Any
other exception is a bug and is logged with its traceback.
"""

from __future__ import annotations


class PraxisError(Exception):
    """A problem the user can fix. ``str(error)`` is shown to them as it is."""


class InvalidInput(PraxisError):
    """An option's value is not acceptable; nothing was changed."""


class NotFound(PraxisError):
    """The named thing does not exist in this server."""


class Conflict(PraxisError):
    """The change clashes with what is already stored (a duplicate name, say)."""


class NotAllowed(PraxisError):
    """The person lacks the role or permission the action needs."""


class StorageBusy(PraxisError):
    """The database stayed locked past the busy timeout; trying again later will work."""


class StorageUnavailable(PraxisError):
    """The database can't be written at all (disk full, read-only file, I/O error).

    Nothing was changed. Unlike :class:`StorageBusy` this lasts until someone fixes the
    machine, so the bot says so to facilitators and in its logs, keeps running, and
    resumes by itself once a write succeeds again.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"Praxis can't save anything right now ({reason}), so nothing was changed. "
            "Whoever runs the bot can see this in its logs; Praxis picks up again by itself "
            "once it's fixed, and reads back anything posted in the threads meanwhile."
        )


class ConfigError(Exception):
    """The environment or ``.env`` holds a value Praxis cannot use."""
