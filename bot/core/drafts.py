"""Form text waiting for its writer's click, held in memory only.

When a form looks like it names a client, the member chooses to edit it or post it as it
is; until then the text waits here. It is never written to disk, because text that was
never posted is never stored; so a restart, half an hour, or one choice ends the wait,
and each platform says kindly that the text is gone. Platform-neutral: the actions are
whatever callables the adapter holds; a writer is whatever id the platform uses.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

DRAFT_SECONDS = 1800  # how long unposted form text waits for its writer's click


@dataclass
class Draft:
    author_id: Hashable
    expires: float
    once: bool  # the privacy check's choices work once; "Open my text again" until expiry
    actions: dict[str, Any]


class Drafts:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: dict[str, Draft] = {}

    def hold(self, author_id: Hashable, *, once: bool, **actions) -> str:
        """Keep ``actions`` for ``author_id``; the token names them in a button or a view."""
        moment = self._clock()
        self._held = {k: d for k, d in self._held.items() if d.expires > moment}
        token = secrets.token_hex(8)
        self._held[token] = Draft(author_id, moment + DRAFT_SECONDS, once, actions)
        return token

    def take(self, token: str, action: str, user_id: Hashable):
        """The action for this click, or None if the text is no longer held (or isn't theirs)."""
        draft = self._held.get(token)
        if draft is None or draft.expires <= self._clock() or draft.author_id != user_id:
            return None
        if draft.once:
            del self._held[token]
        return draft.actions.get(action)
