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


class ConfigError(Exception):
    """The environment or ``.env`` holds a value Praxis cannot use."""
