"""Cohorts: creating, editing, pausing and deleting them, with every option validated.

One table, :data:`OPTIONS`, describes each schedule option once (default, how to read
it, how to show it), so ``/cohort create``, ``/cohort edit`` and ``/cohort show`` cannot
drift apart. Validation happens before any write: bad input stores nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core import limits
from bot.core.clock import from_db, to_db
from bot.core.default_prompts import DEFAULT_PROMPTS
from bot.core.errors import Conflict, InvalidInput, NotFound
from bot.core.prompts import DEFAULT_FEEDBACK_GUIDE
from bot.core.schedule import WeeklySchedule
from bot.core.text import count_words, name_key, tidy_line
from bot.storage import cohorts as store
from bot.storage import prompts as prompt_store
from bot.storage import rounds as round_store
from bot.storage.db import Database, Tx

log = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_SCHEDULE_COLUMNS = frozenset({"timezone", "weekday", "post_time", "every_weeks"})


@dataclass(frozen=True, slots=True)
class Cohort:
    id: int
    guild_id: int
    name: str
    channel_id: int
    member_role_id: int
    facilitator_role_id: int | None
    timezone: str
    weekday: int
    post_time: str
    every_weeks: int
    reflect_hours: int
    feedback_hours: int
    feedback_required: int
    min_words: int
    feedback_min_words: int
    reflect_nudge_hours: int
    last_call: bool
    feedback_nudge_hours: int
    quiet_start: str
    quiet_end: str
    digest_channel_id: int | None
    retention_days: int | None
    paused: bool
    schedule_from: datetime
    created_at: datetime
    platform: str = "discord"  # or "slack": whose adapter runs it
    feedback_guide: tuple[str, ...] | None = None  # None: the default guide; (): free text
    anonymous_feedback: bool = False  # form feedback posted as "Peer N", not the giver's name
    private_reflections: bool = True  # members may send a reflection to facilitators only

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Cohort:
        return cls(
            id=row["id"],
            guild_id=row["guild_id"],
            name=row["name"],
            channel_id=row["channel_id"],
            member_role_id=row["member_role_id"],
            facilitator_role_id=row["facilitator_role_id"],
            timezone=row["timezone"],
            weekday=row["weekday"],
            post_time=row["post_time"],
            every_weeks=row["every_weeks"],
            reflect_hours=row["reflect_hours"],
            feedback_hours=row["feedback_hours"],
            feedback_required=row["feedback_required"],
            min_words=row["min_words"],
            feedback_min_words=row["feedback_min_words"],
            reflect_nudge_hours=row["reflect_nudge_hours"],
            last_call=bool(row["last_call"]),
            feedback_nudge_hours=row["feedback_nudge_hours"],
            quiet_start=row["quiet_start"],
            quiet_end=row["quiet_end"],
            digest_channel_id=row["digest_channel_id"],
            retention_days=row["retention_days"],
            paused=bool(row["paused"]),
            schedule_from=from_db(row["schedule_from"]),
            created_at=from_db(row["created_at"]),
            platform=row["platform"],
            feedback_guide=_stored_guide(row["feedback_guide"]),
            anonymous_feedback=bool(row["anonymous_feedback"]),
            private_reflections=bool(row["private_reflections"]),
        )

    @property
    def schedule(self) -> WeeklySchedule:
        hour, minute = (int(part) for part in self.post_time.split(":"))
        return WeeklySchedule(
            timezone=self.timezone,
            weekday=self.weekday,
            at=time(hour, minute),
            every_weeks=self.every_weeks,
            anchor=self.schedule_from,
        )

    def schedule_after(self, prior: Mapping[str, Any] | None) -> WeeklySchedule:
        """The schedule rounds really follow: :attr:`schedule`, but with nothing opening
        before ``prior`` (the latest scheduled round opened before ``schedule_from``) has
        reached the end of its feedback window. The claim step, the next-round forecast and
        every restart of the schedule use this one rule."""
        if prior is None:
            return self.schedule
        return self.schedule.after_round(from_db(prior["slot_at"]), from_db(prior["feedback_due"]))

    @property
    def reflection_threshold(self) -> int:
        """Words a reflection needs to count: the cohort's minimum, and at least one."""
        return max(self.min_words, 1)

    @property
    def feedback_threshold(self) -> int:
        """Words feedback needs to count: an emoji alone is a kindness, not feedback."""
        return max(self.feedback_min_words, 1)

    @property
    def feedback_headings(self) -> tuple[str, ...]:
        """The questions "Give feedback" asks; empty means one free-text field."""
        return DEFAULT_FEEDBACK_GUIDE if self.feedback_guide is None else self.feedback_guide

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday].capitalize()


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class Option:
    """One cohort setting as a facilitator sees it: its column, default and parser."""

    column: str
    label: str
    default: Any
    parse: Callable[[Any], Any]


def parse_timezone(raw: str) -> str:
    name = raw.strip()
    if name.upper() == "UTC":
        return "UTC"
    if name in _timezone_names():
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise InvalidInput(
        f"I don't know the timezone “{_clip(raw)}”. Pick one from the list as you type, "
        "for example Europe/London or America/New_York."
    )


def parse_time(raw: str) -> str:
    match = _TIME.match(raw)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    raise InvalidInput(
        f"“{_clip(raw)}” isn't a time I can use. Write it as HH:MM on a 24-hour clock, "
        "for example 09:00 or 17:30."
    )


def parse_weekday(raw: str) -> int:
    try:
        return WEEKDAYS.index(raw.strip().lower())
    except ValueError:
        raise InvalidInput("Choose a weekday from Monday to Sunday.") from None


def _bounded(label: str, low: int, high: int) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise InvalidInput(f"{label} must be between {low} and {high}.")
        return value

    return parse


OPTIONS: dict[str, Option] = {
    "timezone": Option("timezone", "Timezone", "UTC", parse_timezone),
    "weekday": Option("weekday", "Weekday", 0, parse_weekday),
    "time": Option("post_time", "Posting time", "09:00", parse_time),
    "every_weeks": Option(
        "every_weeks", "Every", 1, _bounded("every_weeks", 1, limits.MAX_EVERY_WEEKS)
    ),
    "reflect_hours": Option(
        "reflect_hours",
        "Reflection window",
        72,
        _bounded("reflect_hours", 1, limits.MAX_WINDOW_HOURS),
    ),
    "feedback_hours": Option(
        "feedback_hours",
        "Feedback window",
        144,
        _bounded("feedback_hours", 1, limits.MAX_WINDOW_HOURS),
    ),
    "feedback_required": Option(
        "feedback_required",
        "Peers to respond to",
        2,
        _bounded("feedback_required", 0, limits.MAX_FEEDBACK_REQUIRED),
    ),
    "min_words": Option(
        "min_words", "Minimum words", 0, _bounded("min_words", 0, limits.MAX_MIN_WORDS)
    ),
    "feedback_min_words": Option(
        "feedback_min_words",
        "Minimum feedback words",
        0,
        _bounded("feedback_min_words", 0, limits.MAX_MIN_WORDS),
    ),
    "reflect_nudge_hours": Option(
        "reflect_nudge_hours", "Reflection reminder", 24, _bounded("reflect_nudge_hours", 0, 168)
    ),
    "last_call": Option("last_call", "Last call at the deadline", 1, lambda raw: int(bool(raw))),
    "feedback_nudge_hours": Option(
        "feedback_nudge_hours", "Feedback reminder", 24, _bounded("feedback_nudge_hours", 0, 168)
    ),
    "anonymous_feedback": Option(
        "anonymous_feedback", "Anonymous form feedback", 0, lambda raw: int(bool(raw))
    ),
    "quiet_start": Option("quiet_start", "Quiet hours from", "21:00", parse_time),
    "quiet_end": Option("quiet_end", "Quiet hours until", "08:00", parse_time),
    "retention_days": Option(
        "retention_days",
        "Keep texts for",
        None,
        lambda raw: _bounded("retention_days", 0, 3650)(raw) or None,
    ),
}


def _stored_guide(stored: str | None) -> tuple[str, ...] | None:
    return None if stored is None else tuple(json.loads(stored))


def parse_feedback_guide(raw: str) -> str | None:
    """A guide as a facilitator types it (headings split by ``|`` or new lines) as the
    column stores it: JSON, or None for "default". "none" means one free-text field."""
    text = raw.strip()
    if text.lower() == "default":
        return None
    headings = [] if text.lower() == "none" else [tidy_line(h) for h in re.split(r"[|\n]", text)]
    headings = [heading for heading in headings if heading]
    if len(headings) > limits.MAX_FEEDBACK_GUIDE_HEADINGS:
        raise InvalidInput(
            f"A feedback guide can ask at most {limits.MAX_FEEDBACK_GUIDE_HEADINGS} questions "
            f"(you gave {len(headings)}), so the form stays short. Nothing was changed."
        )
    for heading in headings:
        if len(heading) > limits.MAX_SECTION_LABEL_CHARS:
            raise InvalidInput(
                f"“{_clip(heading)}” is {len(heading)} characters; each feedback question can "
                f"be at most {limits.MAX_SECTION_LABEL_CHARS}, as it labels a form field. "
                "Nothing was changed."
            )
    return json.dumps(headings)


def parse_name(raw: str) -> str:
    """The name as it will be stored and shown: tidied (:func:`tidy_line`), with at least
    one letter or digit someone can see, read and type."""
    name = tidy_line(raw)
    if count_words(name) == 0:
        raise InvalidInput(
            "A cohort name needs at least one letter or number people can see, so they can "
            "tell cohorts apart and type the name. Punctuation, symbols and blank characters "
            "alone don't make one."
        )
    if len(name) > limits.MAX_COHORT_NAME_CHARS:
        raise InvalidInput(
            f"Cohort names can be at most {limits.MAX_COHORT_NAME_CHARS} characters."
        )
    return name


def parse_options(given: Mapping[str, Any]) -> dict[str, Any]:
    """Turn the options a facilitator passed (``None`` = not given) into column values."""
    return {
        OPTIONS[key].column: OPTIONS[key].parse(value)
        for key, value in given.items()
        if value is not None
    }  # "retention_days=0" parses to None: keep texts


def check_windows(values: Mapping[str, Any]) -> None:
    """Reflections are due before feedback, and feedback before the next round opens."""
    reflect, feedback = values["reflect_hours"], values["feedback_hours"]
    period = 24 * 7 * values["every_weeks"]
    if reflect > feedback:
        raise InvalidInput(
            f"The reflection window ({reflect} h) must end before the feedback window "
            f"({feedback} h) does: peers need reflections to respond to."
        )
    if feedback > period:
        raise InvalidInput(
            f"The feedback window ({feedback} h) would run into the next round, which opens "
            f"{period} h later. Shorten it, or post less often with every_weeks."
        )


# --------------------------------------------------------------------------- service


async def create_cohort(
    db: Database,
    *,
    guild_id: int,
    name: str,
    channel_id: int,
    member_role_id: int,
    facilitator_role_id: int | None,
    options: Mapping[str, Any],
    now: datetime,
    platform: str = "discord",
) -> Cohort:
    name = parse_name(name)
    values = {option.column: option.default for option in OPTIONS.values()}
    values.update(parse_options(options))
    check_windows(values)
    values.update(
        guild_id=guild_id,
        name=name,
        name_key=name_key(name),
        channel_id=channel_id,
        member_role_id=member_role_id,
        facilitator_role_id=facilitator_role_id,
        platform=platform,
        schedule_from=to_db(now),
        created_at=to_db(now),
        updated_at=to_db(now),
    )
    async with db.transaction() as tx:
        if await store.count_in_guild(tx, guild_id) >= limits.MAX_COHORTS_PER_GUILD:
            raise Conflict(
                f"This server already has {limits.MAX_COHORTS_PER_GUILD} cohorts, the most "
                "Praxis keeps. Delete one you no longer run first."
            )
        if await store.find_id(tx, guild_id, values["name_key"]) is not None:
            raise Conflict(f"This server already has a cohort called “{name}”. Pick another name.")
        cohort_id = await store.insert(tx, values)
        await prompt_store.append(tx, cohort_id, DEFAULT_PROMPTS, to_db(now))
        return Cohort.from_row(await store.get(tx, cohort_id))


async def edit_cohort(
    db: Database,
    cohort: Cohort,
    *,
    changes: Mapping[str, Any],
    now: datetime,
    clear: Collection[str] = (),
) -> Cohort:
    """Apply the options given; a schedule change starts the schedule afresh.

    Restarting (from ``now``, or from the end of a running round, see
    :func:`_restart_from`) means moving the weekday never turns the weeks already passed
    into "missed" rounds. ``clear`` names settings to remove (see :data:`CLEARABLE`); a
    ``None`` in ``changes`` only means "not given".
    """
    updates = parse_options({k: v for k, v in changes.items() if k in OPTIONS})
    for key in ("channel_id", "member_role_id", "facilitator_role_id", "digest_channel_id"):
        if changes.get(key) is not None:
            updates[key] = changes[key]
    updates.update(_cleared(clear, changes))
    if changes.get("feedback_guide") is not None:
        updates["feedback_guide"] = parse_feedback_guide(changes["feedback_guide"])
    if changes.get("private_reflections") is not None:
        updates["private_reflections"] = int(bool(changes["private_reflections"]))
    if changes.get("name") is not None:
        updates["name"] = parse_name(changes["name"])
        updates["name_key"] = name_key(updates["name"])
    merged = {option.column: getattr(cohort, option.column) for option in OPTIONS.values()}
    merged.update(updates)
    check_windows(merged)
    restarts = _SCHEDULE_COLUMNS & {k for k, v in updates.items() if getattr(cohort, k, None) != v}
    updates["updated_at"] = to_db(now)
    async with db.transaction() as tx:
        if "name_key" in updates:
            existing = await store.find_id(tx, cohort.guild_id, updates["name_key"])
            if existing not in (None, cohort.id):
                raise Conflict(f"This server already has a cohort called “{updates['name']}”.")
        if restarts:
            changed = replace(cohort, **{k: updates[k] for k in _SCHEDULE_COLUMNS if k in updates})
            updates["schedule_from"] = await _restart_from(tx, changed, now)
        await store.update(tx, cohort.id, updates)
        return Cohort.from_row(await store.get(tx, cohort.id))


# Settings that can be removed again, by the name facilitators see: their column.
CLEARABLE = {"digest_channel": "digest_channel_id", "facilitator_role": "facilitator_role_id"}
_CLEARABLE_OPTION = {"digest_channel": "digest_channel", "facilitator_role": "facilitators"}


def _cleared(clear: Collection[str], changes: Mapping[str, Any]) -> dict[str, None]:
    """The columns to set to NULL; asking to set and clear the same thing is refused."""
    cleared: dict[str, None] = {}
    for name in clear:
        column = CLEARABLE.get(name)
        if column is None:
            raise InvalidInput(f"“{_clip(name)}” isn't a setting that can be cleared.")
        if changes.get(column) is not None:
            raise InvalidInput(
                f"You asked both to set `{_CLEARABLE_OPTION[name]}` and to clear it. "
                "Pick one and try again: nothing was changed."
            )
        cleared[column] = None
    return cleared


async def set_paused(db: Database, cohort: Cohort, *, paused: bool, now: datetime) -> Cohort:
    """Pause or resume. Resuming restarts the schedule: weeks spent paused are not "missed"."""
    updates: dict[str, Any] = {"paused": int(paused), "updated_at": to_db(now)}
    async with db.transaction() as tx:
        if not paused:
            updates["schedule_from"] = await _restart_from(tx, cohort, now)
        await store.update(tx, cohort.id, updates)
        return Cohort.from_row(await store.get(tx, cohort.id))


async def _restart_from(tx: Tx, cohort: Cohort, now: datetime) -> str:
    """``schedule_from`` for ``cohort``'s schedule starting again at ``now``.

    Not before the round already running has reached the end of its feedback window, so
    a change of time, day or timezone, or a resume, never opens a second round over it.
    """
    prior = await round_store.latest_opened_before(tx, cohort.id, to_db(now))
    return to_db(replace(cohort, schedule_from=now).schedule_after(prior).anchor)


async def delete_cohort(db: Database, cohort: Cohort) -> None:
    """Delete the cohort and, through foreign keys, everything recorded for it (the next
    tick clears the old copies from the database files)."""
    async with db.transaction() as tx:
        await store.delete(tx, cohort.id)
    db.scrub_pending = True


async def get_cohort(db: Database, guild_id: int, name: str) -> Cohort:
    """The cohort called ``name``: its exact name first, then any name with the same key.

    The exact name wins so that a cohort stored before names were keyed this way, whose
    name now shares a key with another's (see :func:`refresh_name_keys`), can still be
    picked from autocomplete.
    """
    row = await store.find_by_name(db, guild_id, name, name_key(name))
    if row is None:
        raise NotFound(
            f"There is no cohort called “{_clip(name)}” in this server. "
            "`/cohort list` shows the ones there are."
        )
    return Cohort.from_row(row)


async def refresh_name_keys(db: Database) -> int:
    """Bring stored names and keys up to :func:`parse_name` and :func:`name_key`; returns
    how many cohorts changed.

    SQLite has no NFKC, so no SQL migration can do this. It runs at every start instead
    (only a read, once done), which also follows a newer Python's Unicode tables. A
    name loses its invisible characters unless nothing would be left. When two cohorts'
    names now share a key, the older cohort takes it and the other stays as it was (it
    still works by its exact name, see :func:`get_cohort`); the log says which.
    """
    async with db.reading() as tx:
        rows = await store.all_names(tx)
    current = {row["id"]: (row["name"], row["name_key"]) for row in rows}
    wanted = {cohort_id: _refreshed(name) for cohort_id, (name, _) in current.items()}
    final = _without_clashes({row["id"]: row["guild_id"] for row in rows}, current, wanted)
    changes = {i: final[i] for i in final if final[i] != current[i]}
    clashing = sorted(i for i in final if final[i] != wanted[i])
    if clashing:
        log.warning("Cohorts %s share a name key with another cohort; left as they were", clashing)
    if changes:
        async with db.transaction() as tx:
            await store.rename(tx, changes)
    return len(changes)


def _refreshed(stored: str) -> tuple[str, str]:
    name = tidy_line(stored) or stored
    return name, name_key(name)


def _without_clashes(
    guild_of: dict[int, int],
    current: dict[int, tuple[str, str]],
    wanted: dict[int, tuple[str, str]],
) -> dict[int, tuple[str, str]]:
    """Move each cohort (oldest first) to the name and key it wants when no other cohort in
    its server holds that key, until nothing more can move; keys stay unique throughout."""
    final = dict(current)
    holder = {(guild_of[i], key): i for i, (_, key) in current.items()}
    moved = True
    while moved:
        moved = False
        for i in sorted(final):
            key = wanted[i][1]
            if final[i] == wanted[i] or holder.get((guild_of[i], key), i) != i:
                continue
            del holder[(guild_of[i], final[i][1])]
            holder[(guild_of[i], key)] = i
            final[i] = wanted[i]
            moved = True
    return final


async def get_cohort_by_id(db: Database, cohort_id: int) -> Cohort | None:
    async with db.reading() as tx:
        row = await store.get(tx, cohort_id)
    return None if row is None else Cohort.from_row(row)


async def list_cohorts(db: Database, guild_id: int) -> list[Cohort]:
    return [Cohort.from_row(row) for row in await store.list_in_guild(db, guild_id)]


async def list_active_cohorts(db: Database) -> list[Cohort]:
    """Every cohort whose schedule runs, across all servers."""
    return [Cohort.from_row(row) for row in await store.list_active(db)]


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def sorted_timezones() -> tuple[str, ...]:
    return tuple(sorted(_timezone_names() | {"UTC"}))


def search_timezones(typed: str, limit: int = 25) -> list[str]:
    """Autocomplete: zones starting with what was typed first, then zones containing it."""
    needle = typed.strip().casefold().replace(" ", "_")
    names = sorted_timezones()
    starts = [n for n in names if n.casefold().startswith(needle)]
    contains = [n for n in names if needle in n.casefold() and n not in starts]
    return (starts + contains)[:limit]


def _clip(text: str, length: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"
