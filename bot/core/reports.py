"""Facilitator reports: one round, one member, the whole cohort as CSV or a chart.

Everything is built from one :class:`CohortHistory`, loaded with four grouped queries
whatever the size of the cohort, so cost grows with members × rounds and no worse.
A member's standing in a round is one of:

* ``on_time``: enough words to count arrived before the reflection deadline;
* ``late``: it counts, but the words it needed came after the deadline;
* ``short``: they wrote, but not enough to count;
* ``missing``: nothing, and the reflection deadline has passed;
* ``not_yet``: nothing so far, but the reflection deadline is still ahead;
* ``excused``: a facilitator excused them from that round.

Excused members are not expected to reflect, so they are left out of the "X of N".
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import pickle
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import chain, groupby
from statistics import mean
from typing import BinaryIO, Literal

from bot.core.chart import Cell, ParticipationGrid, render_heatmap_async
from bot.core.clock import from_db
from bot.core.cohorts import Cohort
from bot.core.errors import InvalidInput
from bot.core.ports import Person
from bot.core.ratings import Tally
from bot.core.ratings import tallies as rating_tallies
from bot.core.rounds import Round
from bot.storage import reports as store
from bot.storage.db import Database

Status = Literal["on_time", "late", "short", "missing", "not_yet", "excused"]
COUNTED: frozenset[str] = frozenset({"on_time", "late"})


@dataclass(frozen=True, slots=True)
class Standing:
    status: Status
    words: int = 0
    feedback_given: int = 0
    feedback_received: int = 0
    short_feedback: int = 0
    private: bool = False  # their reflection went to the facilitators only


MISSING = Standing("missing")


@dataclass(slots=True)
class CohortHistory:
    cohort: Cohort
    rounds: list[Round]
    members: list[Person]
    standings: dict[tuple[int, int], Standing] = field(default_factory=dict)
    ratings: dict[tuple[int, int], Tally] = field(default_factory=dict)

    def standing(self, round_id: int, member_id: int) -> Standing:
        return self.standings.get((round_id, member_id), MISSING)


async def load_history(
    db: Database,
    cohort: Cohort,
    roster: list[Person],
    round_id: int | None = None,
    *,
    now: datetime,
) -> CohortHistory:
    """Everything reports need, for the whole cohort or one round, as it stands at ``now``.

    Members are the roster plus anyone else who wrote a reflection or feedback in the
    cohort (someone who has since lost the member role still shows in the rounds they
    took part in).
    """
    rounds = [Round.from_row(r) for r in await store.reported_rounds(db, cohort.id)]
    if round_id is not None:
        rounds = [r for r in rounds if r.id == round_id]
    threshold = cohort.feedback_threshold
    tallies = await store.tallies(db, cohort.id, threshold, round_id)
    received = await store.received(db, cohort.id, threshold, round_id)
    excused = await store.excusals(db, cohort.id, round_id)
    build = partial(_history, cohort, rounds, roster, tallies, received, excused, now)
    if len(tallies) + len(received) < _INLINE_ROWS:
        history = build()
    else:
        # A big cohort's standings are ~0.1 s of Python per 10,000 cells: in a thread, the
        # event loop gets its turn every few milliseconds meanwhile.
        history = await asyncio.to_thread(build)
    history.ratings = await rating_tallies(db, cohort.id, round_id)
    return history


_INLINE_ROWS = 2_000


def _history(
    cohort: Cohort,
    rounds: list[Round],
    roster: list[Person],
    tallies: list,
    received_rows: list,
    excused_rows: list,
    now: datetime,
) -> CohortHistory:
    received = {(r["round_id"], r["target_id"]): r["n"] for r in received_rows}
    excused = {(r["round_id"], r["member_id"]) for r in excused_rows}
    names = {person.id: person.name for person in roster}
    for row in tallies:
        if row["words"] or row["feedback_given"] or row["short_feedback"]:
            names.setdefault(row["author_id"], row["author_name"])
    history = CohortHistory(
        cohort=cohort,
        rounds=rounds,
        members=sorted((Person(i, n) for i, n in names.items()), key=lambda p: p.name.casefold()),
    )
    by_key = {(row["round_id"], row["author_id"]): row for row in tallies}
    for round_ in rounds:
        for person in history.members:
            key = (round_.id, person.id)
            history.standings[key] = standing(
                cohort, round_, by_key.get(key), received.get(key, 0), key in excused, now
            )
    return history


def standing(
    cohort: Cohort, round_: Round, tally, received: int, excused: bool, now: datetime
) -> Standing:
    """One member's standing in one round from their tally row (None: they wrote nothing),
    the peers who gave them counted feedback, and whether they were excused."""
    need = cohort.reflection_threshold
    words = tally["words"] if tally else 0
    if excused:
        status: Status = "excused"
    elif words >= need:
        status = "on_time" if tally["words_on_time"] >= need else "late"
    elif words > 0:
        status = "short"
    elif round_.reflect_due > now:
        status = "not_yet"
    else:
        status = "missing"
    return Standing(
        status=status,
        words=words,
        feedback_given=tally["feedback_given"] if tally else 0,
        feedback_received=received,
        short_feedback=tally["short_feedback"] if tally else 0,
        private=bool(tally["private"]) if tally else False,
    )


# ------------------------------------------------------------------------ one round


@dataclass(frozen=True, slots=True)
class RoundSummary:
    cohort_name: str
    round: Round
    rows: tuple[tuple[Person, Standing], ...]
    nudges_sent: int
    reflections_open: bool  # the reflection deadline is still ahead
    rated: Tally = field(default_factory=Tally)  # how writers rated its feedback

    @property
    def rating_words(self) -> str:
        """ " · 2 of 3 rated helpful by their readers", or nothing before any rating."""
        if not self.rated.rated:
            return ""
        return f" · {self.rated.helpful} of {self.rated.rated} rated helpful by their readers"

    def _with(self, *statuses: str) -> list[Person]:
        return [person for person, standing in self.rows if standing.status in statuses]

    @property
    def members(self) -> int:
        """Members expected to reflect: the N of "X of N counted" (excused ones aren't)."""
        return len(self.rows) - len(self.excused)

    @property
    def counted(self) -> int:
        return len(self._with(*COUNTED))

    @property
    def on_time(self) -> int:
        return len(self._with("on_time"))

    @property
    def late(self) -> int:
        return len(self._with("late"))

    @property
    def missing(self) -> list[Person]:
        return self._with("missing")

    @property
    def not_yet(self) -> list[Person]:
        return self._with("not_yet")

    @property
    def short(self) -> list[Person]:
        return self._with("short")

    @property
    def excused(self) -> list[Person]:
        return self._with("excused")

    @property
    def short_feedback(self) -> int:
        return sum(standing.short_feedback for _, standing in self.rows)

    @property
    def private_words(self) -> str:
        """ " · 1 private (to facilitators only)", or nothing when none was private."""
        private = sum(1 for _, s in self.rows if s.private and s.status in COUNTED)
        return f" · {private} private (to facilitators only)" if private else ""


async def round_summary(
    db: Database,
    cohort: Cohort,
    roster: list[Person],
    number: int | None = None,
    *,
    now: datetime,
) -> RoundSummary:
    rounds = [Round.from_row(r) for r in await store.reported_rounds(db, cohort.id)]
    if not rounds:
        raise InvalidInput(f"**{cohort.name}** has no posted rounds yet.")
    chosen = rounds[-1] if number is None else next((r for r in rounds if r.number == number), None)
    if chosen is None:
        raise InvalidInput(f"**{cohort.name}** has no posted round {number}.")
    history = await load_history(db, cohort, roster, chosen.id, now=now)
    rows = tuple((p, history.standing(chosen.id, p.id)) for p in history.members)
    tallies = history.ratings.values()
    rated = Tally(sum(t.rated for t in tallies), sum(t.helpful for t in tallies))
    return RoundSummary(
        cohort.name,
        chosen,
        rows,
        await store.nudges_sent(db, chosen.id),
        chosen.reflect_due > now,
        rated,
    )


# ----------------------------------------------------------------------- one member


@dataclass(frozen=True, slots=True)
class MemberSummary:
    person: Person
    per_round: tuple[tuple[Round, Standing], ...]
    streak: int

    def count(self, status: str) -> int:
        return sum(1 for _, standing in self.per_round if standing.status == status)

    @property
    def completed(self) -> int:
        return sum(1 for _, s in self.per_round if s.status in COUNTED)

    @property
    def feedback_given(self) -> int:
        return sum(s.feedback_given for _, s in self.per_round)

    @property
    def feedback_received(self) -> int:
        return sum(s.feedback_received for _, s in self.per_round)

    @property
    def average_words(self) -> float | None:
        counted = [s.words for _, s in self.per_round if s.status in COUNTED]
        return mean(counted) if counted else None


def member_summary(history: CohortHistory, person: Person, now: datetime) -> MemberSummary:
    per_round = tuple((r, history.standing(r.id, person.id)) for r in history.rounds)
    return MemberSummary(person, per_round, streak(per_round, now))


def streak(per_round: tuple[tuple[Round, Standing], ...], now: datetime) -> int:
    """Consecutive counted reflections up to the latest round whose deadline has passed.

    The round still open for reflections doesn't break a streak (it may yet count), and
    neither does an excused round.
    """
    run = 0
    for round_, standing in reversed(per_round):
        if standing.status in COUNTED:
            run += 1
        elif standing.status == "excused" or round_.reflect_due > now:
            continue
        else:
            break
    return run


async def member_report(
    db: Database, cohort: Cohort, roster: list[Person], person: Person, now: datetime
) -> MemberSummary:
    """:func:`member_summary` of the whole-cohort history, from this member's rows only:
    three queries through the (round, author), (round, target) and excusal keys, so
    ``/report member`` and ``/me progress`` cost one member's rows whatever the cohort's
    size. ``roster`` is not needed for one member; it stays for callers' sake."""
    rounds = [Round.from_row(r) for r in await store.reported_rounds(db, cohort.id)]
    threshold = cohort.feedback_threshold
    tallies = {
        r["round_id"]: r for r in await store.member_tallies(db, cohort.id, person.id, threshold)
    }
    received = {
        r["round_id"]: r["n"]
        for r in await store.member_received(db, cohort.id, person.id, threshold)
    }
    excused = {r["round_id"] for r in await store.member_excusals(db, cohort.id, person.id)}
    per_round = tuple(
        (
            r,
            standing(cohort, r, tallies.get(r.id), received.get(r.id, 0), r.id in excused, now),
        )
        for r in rounds
    )
    return MemberSummary(person, per_round, streak(per_round, now))


# -------------------------------------------------------------------- chart & export


def round_label(round_: Round, cohort: Cohort) -> str:
    """ "R3" over the day the round opened in the cohort's timezone, e.g. "R3\n12 Oct"."""
    opened = round_.slot_at.astimezone(cohort.schedule.zone)
    return f"R{round_.number}\n{opened.day} {opened:%b}"


def grid(history: CohortHistory) -> ParticipationGrid:
    """The chart's grid. Cells are immutable and take a few dozen values, so each is made
    once and shared: 52,000 cells at 1,000 members are then no new objects, which spares
    the garbage collector (whose full passes hold the GIL, and so the event loop)."""
    cells: dict[tuple[str, int], Cell] = {}

    def cell(standing: Standing) -> Cell:
        key = (standing.status, standing.feedback_given)
        found = cells.get(key)
        if found is None:
            found = cells[key] = Cell(*key)
        return found

    return ParticipationGrid(
        title=f"{history.cohort.name} · participation",
        round_labels=tuple(round_label(r, history.cohort) for r in history.rounds),
        member_names=tuple(p.name for p in history.members),
        cells=tuple(
            tuple(cell(history.standing(r.id, p.id)) for r in history.rounds)
            for p in history.members
        ),
    )


async def participation_chart(
    db: Database, cohort: Cohort, roster: list[Person], *, now: datetime
) -> bytes:
    """The cohort's heatmap as PNG bytes, built and drawn without holding the event loop:
    the history is assembled and the grid laid out in a thread, the picture drawn by
    :func:`~bot.core.chart.render_heatmap_async` (another process for a big cohort)."""
    history = await load_history(db, cohort, roster, now=now)
    cells = await asyncio.to_thread(grid, history)
    return await render_heatmap_async(cells)


EXPORT_COLUMNS = (
    "round", "prompt_title", "member_id", "member_name", "kind", "to_member_id",
    "to_member_name", "posted_at", "on_time", "word_count", "counted", "private",
)  # fmt: skip
PARTICIPATION_COLUMNS = (
    "round", "round_date", "member_id", "member_name", "status", "reflection_words",
    "feedback_given", "feedback_short", "feedback_received", "feedback_rated",
    "feedback_rated_helpful",
)  # fmt: skip
_NOT_RATED = Tally()
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_bytes(header: Iterable[str], lines: Iterable[list]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheets detect the encoding. Rows are
    encoded as they are written, so the file exists once, as bytes."""
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(lines)
    text.flush()
    data = buffer.getvalue()
    text.close()
    return data


#: Rows read at a time by the export (SQLite or PostgreSQL); what it holds in memory,
#: besides one member's reflection parts (and, for an in-memory database, the spooled
#: file's first megabyte).
EXPORT_BATCH = 500
_SPOOL_BYTES = 1 << 20


async def export_csv_file(
    db: Database, cohort: Cohort, names: dict[int, str], *, include_text: bool
) -> BinaryIO:
    """:func:`export_csv` as a file at its start, for a chat upload to stream.

    Written by a process of its own (:func:`_export_in_process`) that reads batches of
    :data:`EXPORT_BATCH` rows on a read-only connection into a temporary file: the event
    loop only waits, and memory is bounded by a batch whatever the cohort's size. The
    caller closes the file.
    """
    header = [*EXPORT_COLUMNS, *(["text"] if include_text else [])]
    names = dict(names)
    source = db.elsewhere
    if source is None:  # an in-memory database has no second connection: read it here
        rows = await store.export_rows(db, cohort.id)
        for row in rows:
            names.setdefault(row["author_id"], row["author_name"])
        return await asyncio.to_thread(_write_export, header, rows, cohort, names, include_text)
    return await _export_in_process(source, header, cohort, names, include_text)


async def export_csv(
    db: Database, cohort: Cohort, names: dict[int, str], *, include_text: bool
) -> bytes:
    """One row per reflection (its messages joined) or feedback post, as spreadsheet CSV.

    Times in ISO 8601 in the cohort's timezone; ids as :func:`id_cell`; text that would
    start a spreadsheet formula gets a leading apostrophe (:func:`text_cell`). Members
    missing from ``names`` are named as they signed their posts. The whole file as
    bytes; :func:`export_csv_file` hands it over as a file instead.
    """
    with await export_csv_file(db, cohort, names, include_text=include_text) as file:
        return await asyncio.to_thread(file.read)


async def _export_in_process(
    source: tuple[str, str],
    header: list[str],
    cohort: Cohort,
    names: dict[int, str],
    include_text: bool,
) -> BinaryIO:
    """:func:`stream_export` run by ``python -m bot.core.export_worker`` into a temporary
    file opened here, rewound for the caller.

    Not a thread: the export is seconds of Python, and a thread running it holds the GIL
    nearly all the time, so the event loop waited the switch interval (5 ms) at each
    wake-up and, on a busy machine, for the OS to run the export thread again whenever it
    was preempted holding the GIL: 57–208 ms stalls at 500 members beside three CPU-bound
    processes, where a process left 10–61 ms (the loop's own wait for a core).
    """
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    # On the worker's stdin, never its command line: a PostgreSQL URL may hold a password.
    job = pickle.dumps((source, header, cohort, names, include_text))
    # The worker imports Praxis from where this process did, installed or not.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.core.export_worker", str(out.fileno()),
            stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            pass_fds=(out.fileno(),), env=env,
        )  # fmt: skip
        try:
            _, errors = await worker.communicate(job)
        except BaseException:  # cancelled: the worker must not go on writing
            with contextlib.suppress(ProcessLookupError):
                worker.kill()
            raise
        if worker.returncode != 0:
            raise RuntimeError(
                f"the CSV export's worker failed: {_failure(worker.returncode, errors)}"
            )
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _failure(code: int | None, errors: bytes) -> str:
    """The exit status and the exception's type, from the worker's last line of stderr;
    not its message, which could quote a member's text."""
    lines = errors.decode("utf-8", "replace").strip().splitlines()
    kind = lines[-1].split(":", 1)[0].strip() if lines else ""
    return f"exit {code}" + (f", {kind}" if kind.replace(".", "").isidentifier() else "")


def stream_export(
    source: tuple[str, str],
    out: BinaryIO,
    header: list[str],
    cohort: Cohort,
    names: dict[int, str],
    include_text: bool,
) -> None:
    """The export written to ``out`` as its rows are read, :data:`EXPORT_BATCH` at a time
    on a read-only connection of its own to ``source`` (:attr:`Database.elsewhere`):
    memory holds a batch or two. What the export's worker process runs."""
    batches = store.export_batches(source, cohort.id, EXPORT_BATCH)
    first: list = []
    for kind, batch in batches:  # every author first, for the names of forgotten members
        if kind == "post":
            first = batch
            break
        for author_id, author_name in batch:
            names.setdefault(author_id, author_name)
    rows = chain(first, chain.from_iterable(batch for _, batch in batches))
    _write_lines(out, header, rows, cohort, names, include_text)


def _write_export(
    header: list[str],
    rows: Iterable,
    cohort: Cohort,
    names: dict[int, str],
    include_text: bool,
) -> BinaryIO:
    """The CSV (UTF-8 with a byte-order mark, so spreadsheets detect the encoding) in a
    spooled temporary file, rewound."""
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+b")  # noqa: SIM115
    try:
        _write_lines(out, header, rows, cohort, names, include_text)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _write_lines(
    out: BinaryIO,
    header: list[str],
    rows: Iterable,
    cohort: Cohort,
    names: dict[int, str],
    include_text: bool,
) -> None:
    zone = cohort.schedule.zone
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    for record in _export_records(rows, cohort):
        target = record["target_id"]
        line = [
            record["number"],
            text_cell(record["title"] or ""),
            id_cell(record["author_id"]),
            text_cell(names.get(record["author_id"], "")),
            record["kind"],
            id_cell(target) if target else "",
            text_cell(names.get(target, "")) if target else "",
            from_db(record["posted_at"]).astimezone(zone).isoformat(timespec="seconds"),
            "yes" if record["on_time"] else "no",
            record["word_count"],
            "yes" if record["counted"] else "no",
            "yes" if record["private"] else "no",
        ]
        if include_text:
            line.append(text_cell(record["text"] or ""))
        writer.writerow(line)
    text.flush()
    text.detach()  # leaves ``out`` open


def _export_records(rows, cohort: Cohort) -> Iterator[dict]:
    """Reflection parts joined per member and round; feedback posts as they are.

    ``export_rows`` orders a member's reflection parts next to each other, so they are
    joined as they stream past instead of being collected first.
    """
    need = cohort.reflection_threshold

    def key(row) -> tuple:
        if row["kind"] == "feedback":
            return ("feedback", row["message_id"])
        return ("reflection", row["round_id"], row["author_id"])

    for (kind, *_), group in groupby(rows, key=key):
        parts = list(group)
        first = parts[0]
        if kind == "feedback":
            yield {
                **dict(first),
                "on_time": not first["late"],
                "counted": first["word_count"] >= cohort.feedback_threshold,
            }
            continue
        words = sum(part["word_count"] for part in parts)
        on_time_words = sum(part["word_count"] for part in parts if not part["late"])
        counted = words >= need
        yield {
            **dict(first),
            "text": "\n\n".join(part["text"] or "" for part in parts),
            "word_count": words,
            "posted_at": min(part["posted_at"] for part in parts),
            "counted": counted,
            "on_time": on_time_words >= need or (not counted and not first["late"]),
        }


def participation_csv(history: CohortHistory) -> bytes:
    """One row per member per posted round, whatever they did: the roll a facilitator
    keeps, with missing, excused and not-yet rounds that the posts export can't show."""
    zone = history.cohort.schedule.zone

    def lines() -> Iterator[list]:
        for round_ in history.rounds:
            opened = round_.slot_at.astimezone(zone).date().isoformat()
            for person in history.members:
                s = history.standing(round_.id, person.id)
                rated = history.ratings.get((round_.id, person.id), _NOT_RATED)
                yield [
                    round_.number,
                    opened,
                    id_cell(person.id),
                    text_cell(person.name),
                    s.status,
                    s.words,
                    s.feedback_given,
                    s.short_feedback,
                    s.feedback_received,
                    rated.rated,
                    rated.helpful,
                ]

    return _csv_bytes(PARTICIPATION_COLUMNS, lines())


def file_slug(name: str) -> str:
    """A cohort's name as the start of a file name, e.g. "autumn-2026"."""
    return "".join(c if c.isalnum() else "-" for c in name.casefold()).strip("-") or "cohort"


def id_cell(discord_id: int) -> str:
    """A Discord id as ``#`` and its digits, e.g. ``#145607000000000001``.

    Ids have 17 to 20 digits; a spreadsheet reads a bare one as a number, shows
    ``1.45607E+17`` and keeps only 15 digits when the file is saved again. With the
    ``#`` it is text in Excel, LibreOffice and Google Sheets, survives opening and
    saving, and a program recovers the number with ``int(cell.lstrip("#"))``.
    """
    return f"#{discord_id}"


def text_cell(value: str) -> str:
    """Member-written text that a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP's advice against CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value
